"""postmock_nb."""
