"""Guess how a review file's bytes are encoded, and decode them without ever crashing.

Review files come from spreadsheets (UTF-8 with BOM, UTF-16), old tools (Windows-1252,
like the Rotten Tomatoes files) and everything in between. The reader decides on a
sample, then decodes the whole stream with an error handler that cannot fail, so a
stray byte deep in a large file costs one odd character, not the whole read.
"""

from __future__ import annotations

import codecs

SAMPLE_BYTES = 64 * 1024

# UTF-32 first: its little-endian BOM starts with the UTF-16 one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# charset-normalizer often names a close cousin (cp1250, latin-1, mac_roman) for Western
# text; cp1252 is what such review files nearly always are, and it decodes them all.
_WESTERN = {
    "ascii", "cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "cp437", "cp850",
    "latin_1", "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_9", "iso8859_13",
    "iso8859_15", "mac_roman", "mac_latin2", "utf_8",
}

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx file is one: save it as CSV)"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (an Excel .xls file: save it as CSV)"),
    (b"PAR1", "a Parquet file (give it the .parquet suffix)"),
    (b"SQLite format 3", "an SQLite database"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a program"),
    (b"\x1f\x8b", "gzip data inside gzip data"),
)

# Control bytes that never appear in text (tab, newlines, form feed and ESC excluded).
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 27), *range(28, 32)])

UTF8_FALLBACK = "review-utf8-cp1252"


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode bytes that are not UTF-8 as Windows-1252 (Latin-1 for its 5 holes).

    A mostly-UTF-8 file with a few cp1252 bytes (a pasted quote, a pound sign) then keeps
    the characters the author meant instead of turning them into U+FFFD.
    """
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start:error.end]
    chars = []
    for byte in bad:
        try:
            chars.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            chars.append(bytes([byte]).decode("latin-1"))
    return "".join(chars), error.end


codecs.register_error(UTF8_FALLBACK, _cp1252_fallback)


def errors_for(encoding: str) -> str:
    """The decode error handler to pair with ``encoding``: never 'strict'."""
    return UTF8_FALLBACK if encoding.replace("_", "-").startswith("utf-8") else "replace"


def detect_encoding(sample: bytes, complete: bool, thorough: bool = True) -> str:
    """Name the codec for a file whose first bytes are ``sample``.

    ``complete`` says the sample is the whole file; when it is not, a multi-byte
    character cut at the end of the sample is not held against UTF-8. ``thorough``
    asks charset-normalizer about non-UTF-8 bytes (slow-ish: skip it for many tiny files).
    """
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16
    if _is_utf8(sample, complete):
        return "utf-8"
    return _single_byte_guess(sample) if thorough else "cp1252"


def _is_utf8(sample: bytes, complete: bool) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 text of mostly Latin letters has a NUL in every other byte."""
    pairs = len(sample) // 2
    if pairs < 2 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > 0.3 * pairs and even < 0.05 * pairs:
        return "utf-16-le"
    if even > 0.3 * pairs and odd < 0.05 * pairs:
        return "utf-16-be"
    return None


def _single_byte_guess(sample: bytes) -> str:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - it is a declared dependency
        return "cp1252"
    best = from_bytes(sample).best()
    name = best.encoding if best is not None else None
    if name is None or name in _WESTERN:
        return "cp1252"
    return name


def describe_binary(sample: bytes, encoding: str) -> str | None:
    """Say what a file is when it is clearly not text (a picture renamed .csv), else None."""
    for magic, what in _MAGIC:
        if sample.startswith(magic):
            return what
    if encoding.startswith(("utf-16", "utf-32")) or not sample:
        return None
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > max(8, 0.02 * len(sample)):
        return "binary data"
    return None


def decode_sample(sample: bytes, encoding: str, complete: bool) -> str:
    """Decode a sample that may end in the middle of a character."""
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors_for(encoding))
    return decoder.decode(sample, final=complete)


def decode_bytes(data: bytes, thorough: bool = False) -> tuple[str, str]:
    """Decode a whole small file (one review in a folder), returning (text, encoding)."""
    encoding = detect_encoding(data[:SAMPLE_BYTES], complete=len(data) <= SAMPLE_BYTES,
                               thorough=thorough)
    return data.decode(encoding, errors=errors_for(encoding)), encoding
