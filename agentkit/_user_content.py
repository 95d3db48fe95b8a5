"""What a user prompt can hold besides text: image, audio and document URLs, and binary content.

The names, fields and properties are pydantic-ai v0.0.39's (`ImageUrl`, `AudioUrl`, `DocumentUrl`,
`BinaryContent`, `UserContent`); `agentkit.messages` re-exports them. `BinaryContent.data` is
bytes in Python and base64 text in JSON, and base64 text given to a validator is decoded, so a
history survives `dump_python(mode='json')` -> `validate_python` as well as `dump_json` -> `validate_json`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeAlias

from agentkit._schema_markers import PydanticMarker, SchemaOf
from agentkit.exceptions import UnknownMediaType

__all__ = (
    "AudioFormat",
    "AudioMediaType",
    "AudioUrl",
    "BinaryContent",
    "DocumentFormat",
    "DocumentMediaType",
    "DocumentUrl",
    "ImageFormat",
    "ImageMediaType",
    "ImageUrl",
    "PromptContentSchema",
    "UserContent",
    "user_prompt_text",
)

AudioMediaType: TypeAlias = Literal["audio/wav", "audio/mpeg"]
ImageMediaType: TypeAlias = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
DocumentMediaType: TypeAlias = Literal[
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "text/html",
    "text/markdown",
    "application/vnd.ms-excel",
]
AudioFormat: TypeAlias = Literal["wav", "mp3"]
ImageFormat: TypeAlias = Literal["jpeg", "png", "gif", "webp"]
DocumentFormat: TypeAlias = Literal["csv", "doc", "docx", "html", "md", "pdf", "txt", "xls", "xlsx"]

_AUDIO_FORMATS: dict[str, AudioFormat] = {"audio/mpeg": "mp3", "audio/wav": "wav"}
_IMAGE_FORMATS: dict[str, ImageFormat] = {
    "image/jpeg": "jpeg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
}
_DOCUMENT_FORMATS: dict[str, DocumentFormat] = {
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/csv": "csv",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "html",
    "text/markdown": "md",
    "application/vnd.ms-excel": "xls",
}

# A fixed table rather than the `mimetypes` module, whose answers depend on the machine's files.
_AUDIO_EXTENSIONS: dict[str, AudioMediaType] = {".mp3": "audio/mpeg", ".wav": "audio/wav"}
_IMAGE_EXTENSIONS: dict[str, ImageMediaType] = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
_DOCUMENT_EXTENSIONS: dict[str, str] = {
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".html": "text/html",
    ".htm": "text/html",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".xls": "application/vnd.ms-excel",
    ".doc": "application/msword",
}


def _extension(url: str) -> str:
    """The lower-case extension of the URL's path (`.png`), ignoring its query and fragment."""
    from urllib.parse import urlsplit  # imported on first use: it brings in `ipaddress`

    return posixpath.splitext(urlsplit(url).path)[1].lower()


def _unknown_extension(what: str, kind: str, url: str, known: Sequence[str]) -> UnknownMediaType:
    return UnknownMediaType(
        f"Unknown {what} file extension: {url} ({kind} expects a URL ending in {', '.join(known)}; "
        "for other files pass the bytes as BinaryContent(data, media_type=...))"
    )


@dataclass
class ImageUrl:
    """A URL to an image; its media type comes from the URL's extension."""

    url: str
    kind: Literal["image-url"] = "image-url"

    @property
    def media_type(self) -> ImageMediaType:
        """`image/jpeg`, `image/png`, `image/gif` or `image/webp`; `UnknownMediaType` for other extensions."""
        found = _IMAGE_EXTENSIONS.get(_extension(self.url))
        if found is None:
            raise _unknown_extension("image", "ImageUrl", self.url, list(_IMAGE_EXTENSIONS))
        return found

    @property
    def format(self) -> ImageFormat:
        """`jpeg`, `png`, `gif` or `webp`."""
        return _IMAGE_FORMATS[self.media_type]


@dataclass
class AudioUrl:
    """A URL to an audio file; its media type comes from the URL's extension."""

    url: str
    kind: Literal["audio-url"] = "audio-url"

    @property
    def media_type(self) -> AudioMediaType:
        """`audio/mpeg` (`.mp3`) or `audio/wav` (`.wav`); `UnknownMediaType` for other extensions."""
        found = _AUDIO_EXTENSIONS.get(_extension(self.url))
        if found is None:
            raise _unknown_extension("audio", "AudioUrl", self.url, list(_AUDIO_EXTENSIONS))
        return found

    @property
    def format(self) -> AudioFormat:
        """`mp3` or `wav`."""
        return _AUDIO_FORMATS[self.media_type]


@dataclass
class DocumentUrl:
    """A URL to a document (PDF, text, CSV, Word, Excel, HTML, Markdown); its media type comes from the extension."""

    url: str
    kind: Literal["document-url"] = "document-url"

    @property
    def media_type(self) -> str:
        """The document's media type, e.g. `application/pdf`; `UnknownMediaType` for unknown extensions."""
        found = _DOCUMENT_EXTENSIONS.get(_extension(self.url))
        if found is None:
            raise _unknown_extension("document", "DocumentUrl", self.url, list(_DOCUMENT_EXTENSIONS))
        return found

    @property
    def format(self) -> DocumentFormat:
        """`pdf`, `txt`, `csv`, `docx`, `xlsx`, `html`, `md` or `xls`."""
        return _document_format(self.media_type)


def _bytes_from_base64(value: object) -> object:
    """Text given for `BinaryContent.data` (JSON, or JSON-mode data) is base64; bytes pass as they are."""
    if not isinstance(value, str):
        return value
    import base64
    import binascii

    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as error:
        raise ValueError(f"BinaryContent.data given as text must be base64 ({error})") from None


def _base64_text(value: bytes) -> str:
    import base64

    return base64.b64encode(value).decode("ascii")


Base64Bytes = Annotated[
    bytes,
    PydanticMarker("BeforeValidator", _bytes_from_base64),
    PydanticMarker("PlainSerializer", _base64_text, return_type=str, when_used="json"),
]
"""Bytes that are standard base64 text in JSON, both ways."""


@dataclass
class BinaryContent:
    """Binary content of a user prompt, e.g. an image, an audio clip or a PDF, with its media type."""

    data: Base64Bytes
    media_type: AudioMediaType | ImageMediaType | DocumentMediaType | str
    kind: Literal["binary"] = "binary"

    @property
    def is_audio(self) -> bool:
        """Whether the media type is `audio/...`."""
        return self.media_type.startswith("audio/")

    @property
    def is_image(self) -> bool:
        """Whether the media type is `image/...`."""
        return self.media_type.startswith("image/")

    @property
    def is_document(self) -> bool:
        """Whether the media type is one of the document types (`DocumentMediaType`)."""
        return self.media_type in _DOCUMENT_FORMATS

    @property
    def format(self) -> str:
        """The file format: `mp3`/`wav`, `jpeg`/`png`/`gif`/`webp`, or a `DocumentFormat`."""
        found: str | None = _AUDIO_FORMATS.get(self.media_type) or _IMAGE_FORMATS.get(self.media_type)
        if found is None and self.is_document:
            found = _document_format(self.media_type)
        if found is None:
            known = [*_AUDIO_FORMATS, *_IMAGE_FORMATS, *_DOCUMENT_FORMATS]
            raise UnknownMediaType(
                f"Unknown media type {self.media_type!r} of BinaryContent: it has no format; "
                f"known media types: {', '.join(known)}"
            )
        return found


def _document_format(media_type: str) -> DocumentFormat:
    found = _DOCUMENT_FORMATS.get(media_type)
    if found is None:
        raise UnknownMediaType(
            f"Unknown document media type {media_type!r}: it has no format; "
            f"known document media types: {', '.join(_DOCUMENT_FORMATS)}"
        )
    return found


UserContent: TypeAlias = str | ImageUrl | AudioUrl | DocumentUrl | BinaryContent
"""One item of a user prompt given as a sequence."""


def _content_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        kind = value.get("kind")
        return kind if isinstance(kind, str) else None
    kind = getattr(value, "kind", None)
    return kind if isinstance(kind, str) else None


_ContentItem = Annotated[
    Annotated[str, PydanticMarker("Tag", "text")]
    | Annotated[ImageUrl, PydanticMarker("Tag", "image-url")]
    | Annotated[AudioUrl, PydanticMarker("Tag", "audio-url")]
    | Annotated[DocumentUrl, PydanticMarker("Tag", "document-url")]
    | Annotated[BinaryContent, PydanticMarker("Tag", "binary")],
    PydanticMarker(
        "Discriminator",
        _content_kind,
        custom_error_type="user_content",
        custom_error_message=(
            "a user prompt item must be text or have kind 'image-url', 'audio-url', 'document-url' or 'binary'"
        ),
    ),
]


def _prompt_content_kind(value: Any) -> str:
    return "text" if isinstance(value, str) else "items"


_PromptContent = Annotated[
    Annotated[str, PydanticMarker("Tag", "text")] | Annotated[Sequence[_ContentItem], PydanticMarker("Tag", "items")],
    PydanticMarker("Discriminator", _prompt_content_kind),
]
PromptContentSchema = SchemaOf(_PromptContent)
"""Validates `UserPromptPart.content` item by item on each item's `kind`, so an error names the bad item."""


def user_prompt_text(content: str | Sequence[UserContent]) -> str:
    """A user prompt as one text: text items joined by newlines, other items as a short bracketed line.

    `[image-url https://...]`, `[audio-url ...]`, `[document-url ...]`, and
    `[binary image/png, 1234 bytes, sha256 0123abcd]` (the digest tells two files of one size apart).
    This is the prompt run hooks see, the run's identity in a cassette, and `RunContext.prompt`.
    """
    if isinstance(content, str):
        return content
    lines: list[str] = []
    for item in content:
        if isinstance(item, str):
            lines.append(item)
        elif isinstance(item, BinaryContent):
            import hashlib  # imported on first use: it loads OpenSSL

            digest = hashlib.sha256(item.data).hexdigest()[:8]
            lines.append(f"[binary {item.media_type}, {len(item.data)} bytes, sha256 {digest}]")
        else:
            lines.append(f"[{item.kind} {item.url}]")
    return "\n".join(lines)
