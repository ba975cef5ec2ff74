"""Dynamic response bodies: Postman's ``{{$randomFirstName}}``, request echo and wildcard echo.

``{{name}}``                     a captured path variable (``/users/:name``), else a collection variable
``{{$guid}}``, ``{{$random…}}``  fake data from Faker (Postman's dynamic variables)
``{{$body}}``                    the whole request body; ``{{$body 'a.b' 'default'}}`` one JSON field
``{{$queryParams 'q'}}``, ``{{$headers 'h'}}``, ``{{$pathSegments 0}}``  the same for other parts

Placeholders that mean nothing are left as they are, so a typo shows in the response.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from postmock_nb.core.bodies import json_path

_PLACEHOLDER = re.compile(r"""\{\{\s*(\$?[A-Za-z_][\w.\-]*)((?:\s+(?:'[^']*'|"[^"]*"|[^\s'"{}]+))*)\s*\}\}""")
_ARGUMENT = re.compile(r"""'([^']*)'|"([^"]*)"|([^\s'"]+)""")

# Postman dynamic variable → Faker provider (method name, or a callable taking the Faker).
FAKER_PROVIDERS: dict[str, str | Callable[[Any], Any]] = {
    "randomAlphaNumeric": lambda f: f.random_element("abcdefghijklmnopqrstuvwxyz0123456789"),
    "randomBoolean": lambda f: f.boolean(),
    "randomInt": lambda f: f.random_int(0, 1000),
    "randomColor": "color_name", "randomHexColor": "hex_color", "randomAbbreviation": lambda f: f.lexify("???").upper(),
    "randomIP": "ipv4", "randomIPV6": "ipv6", "randomMACAddress": "mac_address", "randomPassword": "password",
    "randomLocale": "locale", "randomUserAgent": "user_agent",
    "randomProtocol": lambda f: f.random_element(["http", "https"]),
    "randomSemver": lambda f: f"{f.random_int(0, 9)}.{f.random_int(0, 20)}.{f.random_int(0, 50)}",
    "randomFirstName": "first_name", "randomLastName": "last_name", "randomFullName": "name",
    "randomNamePrefix": "prefix", "randomNameSuffix": "suffix", "randomJobArea": "job", "randomJobDescriptor": "job",
    "randomJobTitle": "job", "randomJobType": "job", "randomPhoneNumber": "phone_number",
    "randomPhoneNumberExt": "phone_number", "randomCity": "city", "randomStreetName": "street_name",
    "randomStreetAddress": "street_address", "randomCountry": "country", "randomCountryCode": "country_code",
    "randomLatitude": lambda f: str(f.latitude()), "randomLongitude": lambda f: str(f.longitude()),
    "randomAvatarImage": "image_url", "randomImageUrl": "image_url", "randomAbstractImage": "image_url",
    "randomAnimalsImage": "image_url", "randomBusinessImage": "image_url", "randomCatsImage": "image_url",
    "randomCityImage": "image_url", "randomFoodImage": "image_url", "randomNightlifeImage": "image_url",
    "randomFashionImage": "image_url", "randomPeopleImage": "image_url", "randomNatureImage": "image_url",
    "randomSportsImage": "image_url", "randomTransportImage": "image_url", "randomImageDataUri": "image_url",
    "randomBankAccount": "bban", "randomBankAccountName": lambda f: f"{f.word().title()} Account",
    "randomCreditCardMask": lambda f: f.credit_card_number()[-4:], "randomBankAccountBic": "swift",
    "randomBankAccountIban": "iban",
    "randomTransactionType": lambda f: f.random_element(["deposit", "withdrawal", "payment", "invoice"]),
    "randomCurrencyCode": "currency_code", "randomCurrencyName": "currency_name",
    "randomCurrencySymbol": "currency_symbol",
    "randomBitcoin": lambda f: f.pystr(min_chars=34, max_chars=34), "randomCompanyName": "company",
    "randomCompanySuffix": "company_suffix", "randomBs": "bs", "randomBsAdjective": "bs", "randomBsBuzz": "bs",
    "randomBsNoun": "bs", "randomCatchPhrase": "catch_phrase", "randomCatchPhraseAdjective": "catch_phrase",
    "randomCatchPhraseDescriptor": "catch_phrase", "randomCatchPhraseNoun": "catch_phrase",
    "randomDatabaseColumn": lambda f: f.random_element(["id", "name", "email", "created_at", "status"]),
    "randomDatabaseType": lambda f: f.random_element(["int", "varchar", "text", "boolean", "timestamp"]),
    "randomDatabaseCollation": lambda f: f.random_element(["utf8_unicode_ci", "utf8_general_ci", "ascii_bin"]),
    "randomDatabaseEngine": lambda f: f.random_element(["InnoDB", "MyISAM", "MEMORY"]),
    "randomDateFuture": lambda f: f.future_datetime().isoformat(),
    "randomDatePast": lambda f: f.past_datetime().isoformat(),
    "randomDateRecent": lambda f: f.date_time_between("-2d").isoformat(), "randomWeekday": "day_of_week",
    "randomMonth": "month_name", "randomDomainName": "domain_name", "randomDomainSuffix": "tld",
    "randomDomainWord": "domain_word", "randomEmail": "email", "randomExampleEmail": "safe_email",
    "randomUserName": "user_name", "randomUrl": "url", "randomFileName": "file_name",
    "randomFileType": lambda f: f.mime_type().split("/")[0],
    "randomFileExt": "file_extension", "randomCommonFileName": "file_name",
    "randomCommonFileType": lambda f: f.mime_type().split("/")[0],
    "randomCommonFileExt": "file_extension", "randomFilePath": "file_path",
    "randomDirectoryPath": lambda f: "/" + f.uri_path(),
    "randomMimeType": "mime_type",
    "randomPrice": lambda f: f"{f.pyfloat(min_value=1, max_value=1000, right_digits=2):.2f}",
    "randomProduct": "word", "randomProductAdjective": "word", "randomProductDescription": "sentence",
    "randomProductMaterial": "word", "randomProductName": lambda f: " ".join(f.words(3)).title(),
    "randomDepartment": "word",
    "randomNoun": "word", "randomVerb": "word", "randomIngverb": lambda f: f.word() + "ing", "randomAdjective": "word",
    "randomWord": "word", "randomWords": lambda f: " ".join(f.words()), "randomPhrase": "sentence",
    "randomLoremWord": "word", "randomLoremWords": lambda f: " ".join(f.words()), "randomLoremSentence": "sentence",
    "randomLoremSentences": lambda f: " ".join(f.sentences()), "randomLoremParagraph": "paragraph",
    "randomLoremParagraphs": lambda f: "\n".join(f.paragraphs()), "randomLoremText": "text",
    "randomLoremSlug": "slug", "randomLoremLines": lambda f: "\n".join(f.sentences()),
}
BUILTINS: dict[str, Callable[[], Any]] = {
    "guid": lambda: str(uuid.uuid4()), "randomUUID": lambda: str(uuid.uuid4()),
    "timestamp": lambda: int(datetime.now(timezone.utc).timestamp()),
    "isoTimestamp": lambda: datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
}


class FakeData:
    """The source of Postman's ``{{$random…}}`` values: one Faker with its own random generator.

    Seeding it (:meth:`seed`) makes its values repeatable without touching Python's global ``random``.
    """

    def __init__(self) -> None:
        self._faker: Any = None

    @property
    def faker(self) -> Any:
        if self._faker is None:
            from faker import Faker  # deferred: faker is slow to import (loaded on first use)

            self._faker = Faker()
        return self._faker

    def seed(self, value: int) -> None:
        self.faker.seed_instance(value)  # this instance's own random.Random

    def value(self, name: str) -> Any:
        """The value of a Postman dynamic variable such as ``randomFirstName``, or None if unknown."""
        if name in BUILTINS:
            return BUILTINS[name]()
        provider = FAKER_PROVIDERS.get(name)
        if provider is None:
            return None
        faker = self.faker
        return provider(faker) if callable(provider) else getattr(faker, provider)()


fake_data = FakeData()
"""What rendering draws fake values from (:func:`seed` seeds it)."""


@dataclass(frozen=True)
class RenderContext:
    """What a placeholder may refer to."""

    path: str = "/"
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] | None = None
    body: str = ""
    captured: Mapping[str, str] | None = None
    variables: Mapping[str, str] | None = None


def has_placeholders(text: str) -> bool:
    """Whether ``text`` may need rendering per request (the server caches it otherwise)."""
    return "{{" in text and _PLACEHOLDER.search(text) is not None


def dynamic_value(name: str) -> Any:
    """The value of a Postman dynamic variable such as ``randomFirstName``, or None if unknown."""
    return fake_data.value(name)


def _body(args: list[str], ctx: RenderContext, default: str) -> Any:
    return ctx.body if not args else json_path(ctx.body, args[0], default)


def _query_params(args: list[str], ctx: RenderContext, default: str) -> Any:
    if not args:
        first: dict[str, str] = {}
        for key, value in ctx.query:
            first.setdefault(key, value)  # a repeated parameter gives its first value, as below
        return first
    return next((v for k, v in ctx.query if k == args[0]), default)


def _headers(args: list[str], ctx: RenderContext, default: str) -> Any:
    headers = ctx.headers or {}
    return dict(headers) if not args else headers.get(args[0].lower(), default)


def _path_segments(args: list[str], ctx: RenderContext, default: str) -> Any:
    segments = [s for s in ctx.path.split("/") if s]
    if not args:
        return segments
    try:
        return segments[int(args[0])]
    except (ValueError, IndexError):
        return default


_REQUEST_PARTS: dict[str, Callable[[list[str], RenderContext, str], Any]] = {
    "$body": _body, "$queryParams": _query_params, "$headers": _headers, "$pathSegments": _path_segments}
"""The request's parts a placeholder reads: ``{{$body 'a.b' 'default'}}`` (its first argument picks
inside the part, its second is the value when nothing is there)."""


def _lookup(name: str, args: list[str], ctx: RenderContext) -> Any:
    part = _REQUEST_PARTS.get(name)
    if part is not None:
        return part(args, ctx, args[1] if len(args) > 1 else "")
    if name.startswith("$"):
        return dynamic_value(name[1:])
    if ctx.captured and name in ctx.captured:
        return ctx.captured[name]
    if ctx.variables and name in ctx.variables:
        return ctx.variables[name]
    return None


def render(template: str, ctx: RenderContext, *, json_body: bool = False) -> str:
    """Fill the placeholders of ``template``; in a JSON body, inserted text is JSON-escaped."""
    if "{{" not in template:
        return template

    def replace(found: re.Match[str]) -> str:
        args = [a or b or c for a, b, c in _ARGUMENT.findall(found.group(2) or "")]
        value = _lookup(found.group(1), args, ctx)
        if value is None:
            return str(found.group(0))
        start, end = found.span()
        quoted = start > 0 and template[start - 1] == '"' and template[end:end + 1] == '"'
        if isinstance(value, str):
            # the whole body ({{$body}}) goes in raw unless it stands inside a JSON string
            if json_body and (quoted or not (found.group(1) == "$body" and not args)):
                return json.dumps(value, ensure_ascii=False)[1:-1]
            return value
        if json_body and not quoted:
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
        return json.dumps(text, ensure_ascii=False)[1:-1] if json_body else text  # inside a JSON string

    return _PLACEHOLDER.sub(replace, template)


def seed(value: int) -> None:
    """Make fake data repeatable (tests, demos): seeds :data:`fake_data`, not the global ``random``."""
    fake_data.seed(value)
