"""UTF-8 validation of text messages (RFC 6455 section 8.1), fail fast."""

import time

import pytest

from harness import OP_CONT, OP_TEXT, build_frame

VALID = [
    b"",
    "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!".encode(),
    "\u03ba\u1f79\u03c3\u03bc\u03b5".encode(),		# kosme
    b"\x00",					# U+0000
    b"\x7f",					# U+007F
    b"\xc2\x80",				# U+0080
    b"\xdf\xbf",				# U+07FF
    b"\xe0\xa0\x80",				# U+0800
    b"\xed\x9f\xbf",				# U+D7FF
    b"\xee\x80\x80",				# U+E000
    b"\xef\xbf\xbd",				# U+FFFD
    b"\xef\xbf\xbe",				# U+FFFE, a noncharacter: valid
    b"\xef\xbf\xbf",				# U+FFFF, likewise
    b"\xf0\x90\x80\x80",			# U+10000
    b"\xf4\x8f\xbf\xbf",			# U+10FFFF
    "\U0001f600 mixed \u00e9\u4e2d".encode(),
]

INVALID = [
    b"\xc0\x80", b"\xc0\xaf", b"\xc1\xbf",		# overlong 2-byte
    b"\xe0\x80\x80", b"\xe0\x9f\xbf",			# overlong 3-byte
    b"\xf0\x80\x80\x80", b"\xf0\x8f\xbf\xbf",		# overlong 4-byte
    b"\xed\xa0\x80", b"\xed\xaf\xbf", b"\xed\xb0\x80", b"\xed\xbf\xbf",
    b"\xed\xa0\x80\xed\xb0\x80",			# surrogate pair
    b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xf7\xbf\xbf\xbf",
    b"\x80", b"\xbf", b"\x80\xbf\x80",			# stray continuations
    b"\xfe", b"\xff", b"\xfe\xfe\xff\xff",
    b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80",	# 5, 6 bytes
    b"\xc2\x41", b"\xe0\xa0\x41", b"\xf0\x90\x80\x41",	# cut short
    "\u03ba\u1f79\u03c3\u03bc\u03b5".encode() + b"\xed\xa0\x80edited",
]

TRUNCATED_AT_END = [b"\xc2", b"\xe0\xa0", b"\xf0\x90\x80", b"abc\xce"]


@pytest.mark.parametrize("payload", VALID, ids=lambda p: p.hex() or "empty")
def test_valid_text_echoed(echo, payload):
    echo.echo(OP_TEXT, payload)
    echo.close_handshake()


@pytest.mark.parametrize("payload", INVALID, ids=lambda p: p.hex())
def test_invalid_text_1007(echo, payload):
    echo.send_frame(OP_TEXT, payload)
    echo.expect_failure(1007, allow_partial=True)


@pytest.mark.parametrize("payload", TRUNCATED_AT_END, ids=lambda p: p.hex())
def test_truncated_at_message_end_1007(echo, payload):
    echo.send_frame(OP_TEXT, payload)
    echo.expect_failure(1007, allow_partial=True)


def test_valid_text_split_inside_code_points(echo):
    text = "\u03ba\u1f79\u03c3\u03bc\u03b5 \U0001f600 \u00e9".encode()
    for cut in range(1, len(text)):
        echo.send(build_frame(OP_TEXT, text[:cut], fin=False) +
            build_frame(OP_CONT, text[cut:], fin=True))
        assert echo.read_message() == (OP_TEXT, text), "cut at %d" % cut
    echo.close_handshake()


def test_valid_text_one_byte_fragments(echo):
    text = "\U0001f600\u4e2d\u00e9a".encode()
    frames = [build_frame(OP_TEXT if i == 0 else OP_CONT, text[i:i + 1],
        fin=(i == len(text) - 1)) for i in range(len(text))]
    echo.send(b"".join(frames))
    assert echo.read_message() == (OP_TEXT, text)
    echo.close_handshake()


def test_invalid_in_second_fragment(echo):
    echo.send_frame(OP_TEXT, "valid start", fin=False)
    echo.send_frame(OP_CONT, b"\xed\xa0\x80", fin=True)
    echo.expect_failure(1007, allow_partial=True)


def test_truncated_across_final_fragment(echo):
    echo.send_frame(OP_TEXT, b"ok \xf0\x90", fin=False)
    echo.send_frame(OP_CONT, b"\x80", fin=True)
    echo.expect_failure(1007, allow_partial=True)


def _fail_fast(echo, frame, upto, sent=0):
    """Sends frame[sent:upto] only and asserts the 1007 close arrives while
    the rest of the frame has not been sent."""
    echo.send(frame[sent:upto])
    t0 = time.monotonic()
    echo.expect_close(1007, timeout=2.0, allow_partial=True)
    assert time.monotonic() - t0 < 2.0
    echo.reply_close(1007)
    echo.assert_closed(1.0)


def test_fail_fast_inside_frame(echo):
    # A text frame announcing 100 bytes; 10 valid bytes and one invalid
    # byte are sent, the other 89 never are.
    payload = b"0123456789" + b"\xff" + b"x" * 89
    frame = build_frame(OP_TEXT, payload)
    assert len(frame) == 6 + 100
    _fail_fast(echo, frame, 6 + 11)


@pytest.mark.parametrize("bad", [b"\xf4\x90", b"\xed\xa0", b"\xc0",
    b"\xe0\x80", b"\xce\x41"], ids=lambda p: p.hex())
def test_fail_fast_on_first_impossible_byte(echo, bad):
    # The sequence is wrong as soon as its last byte here arrives, before
    # the code point (or the frame) is complete.
    payload = b"abc" + bad + b"\x80" * (100 - 3 - len(bad))
    frame = build_frame(OP_TEXT, payload)
    _fail_fast(echo, frame, 6 + 3 + len(bad))


def test_fail_fast_in_continuation(echo):
    first = build_frame(OP_TEXT, "a complete valid first fragment",
        fin=False)
    second = build_frame(OP_CONT, b"hello" + b"\xff" + b"y" * 94, fin=True)
    echo.send(first)
    _fail_fast(echo, second, 6 + 6)


def test_fail_fast_after_pause(echo):
    # A valid lead byte, a pause, then a byte that cannot continue it.
    payload = b"ab\xce" + b"\x41" + b"z" * 96
    frame = build_frame(OP_TEXT, payload)
    echo.send(frame[:6 + 3])
    time.sleep(0.2)
    _fail_fast(echo, frame, 6 + 4, sent=6 + 3)
