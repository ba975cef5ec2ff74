"""pytest fixtures: a running mock for your tests."""
