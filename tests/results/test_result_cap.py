"""The result cap is in o200k tokens: measured with the real tokenizer on every kind of content.

The estimate may err high (a result cut a little early) but never more than about 10% low, and an
ordinary result is not cut much below the cap.
"""

from __future__ import annotations

import functools
import json
import random
import string
import unicodedata
import uuid
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from mcp import Client

from rtk_mcp.results.shaping import estimate_tokens
from rtk_mcp.sanitize import is_invisible
from rtk_mcp.server import build_server
from tests.conftest import FakeAPI, settings, text_of
from tools.tokens import token_counter

CAP = 4_000
_rnd = random.Random(14)


def _words(n: int) -> str:
    vocabulary = ("the weekly planning meeting started at noon and everyone joined the call to review "
                  "quarterly roadmap budget hiring design launch notes").split()
    return " ".join(_rnd.choice(vocabulary) for _ in range(n))


@functools.cache
def _visible(first: int, last: int) -> list[int]:
    """Assigned, visible code points (the others are stripped from results, which would change the data)."""
    return [cp for cp in range(first, last) if not is_invisible(chr(cp)) and unicodedata.category(chr(cp)) != "Co"]


def _chars(alphabet: str | list[int], n: int) -> str:
    return "".join(_rnd.choice(alphabet) if isinstance(alphabet, str) else chr(_rnd.choice(alphabet))
                   for _ in range(n))


def _uuid() -> str:
    return str(uuid.UUID(int=_rnd.getrandbits(128)))


def _stamp() -> str:
    return f"2026-11-30T{_rnd.randint(0, 23):02d}:{_rnd.randint(0, 59):02d}:{_rnd.randint(0, 59):02d}.{_rnd.randint(0, 999):03d}Z"


COMMON_CJK = "我们今天开会讨论了项目的进展情况大家都同意下周继续会议记录已经保存请在明天之前提交报告谢谢"
#: One item of each kind of content; the list is long enough to need cutting at CAP.
KINDS: dict[str, Callable[[], Any]] = {
    "ordinary": lambda: {"id": _uuid(), "title": _words(5), "status": "ACTIVE", "created_at": _stamp(),
                         "record_on_start": False, "preferred_region": "ap-south-1"},
    "chat": lambda: {"display_name": _rnd.choice(["Alice", "Bob"]), "message": _words(20), "created_at": _stamp()},
    "ids_and_timestamps": lambda: {"id": _uuid(), "peer_id": _uuid(), "joined_at": _stamp(), "left_at": _stamp()},
    "hex": lambda: {"id": _chars("0123456789abcdef", 64)},
    "base64": lambda: {"token": _chars(string.ascii_letters + string.digits + "+/", 80)},
    "random_letters": lambda: {"key": _chars(string.ascii_lowercase, 40)},
    "digits": lambda: {"n": _rnd.randint(0, 10**15)},
    "cjk": lambda: {"text": "".join(_rnd.choice(COMMON_CJK) for _ in range(40))},
    "rare_cjk": lambda: {"text": _chars(_visible(0x4E00, 0xA000), 40)},
    "emoji": lambda: {"text": _chars(_visible(0x1F300, 0x1F650), 20)},
    "symbols": lambda: {"text": _chars(_visible(0x2010, 0x2C00), 30)},
    "other_planes": lambda: {"text": _chars(_visible(0x10000, 0x1D000), 30)},
    "punctuation": lambda: {"text": _chars("!@#$%^&*()_+-=[]{}|;':,./<>?~`", 60)},
    "cyrillic": lambda: {"text": "Встреча началась в полдень и все присоединились к звонку"},
}


@pytest.fixture(scope="module")
def count() -> Callable[[str], int]:
    counter = token_counter()
    assert counter is not None, "no tokenizer: expected ../shared/tokenizer beside the checkout (or RTK_TOKENIZER_DIR)"
    return counter


async def _listed(items: list[Any]) -> tuple[str, dict[str, Any]]:
    body = json.dumps({"success": True, "data": items, "paging": {"total_count": len(items), "start_offset": 0}})
    api = FakeAPI(responder=lambda request: httpx2.Response(200, content=body.encode(),
                                                            headers={"Content-Type": "application/json"}))
    async with Client(build_server(settings(max_result_tokens=CAP), transport=api.transport)) as client:
        result = await client.call_tool("list_meetings", {})
    assert not result.is_error, text_of(result)
    return text_of(result), json.loads(text_of(result))


@pytest.mark.parametrize("kind", KINDS)
async def test_a_cut_result_is_within_the_cap_in_real_tokens(kind: str, count: Callable[[str], int]) -> None:
    items = [KINDS[kind]() for _ in range(1_000)]
    text, shown = await _listed(items)
    real = count(text)
    assert "truncated" in shown and shown["data"] == items[: len(shown["data"])]
    assert real <= CAP * 1.1, f"{kind}: {real} real tokens against a cap of {CAP}"
    # The estimate, on the whole result and on the full list, is never more than 10% below the count.
    assert estimate_tokens(text) >= 0.9 * real
    whole = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    assert estimate_tokens(whole) >= 0.9 * count(whole), kind


@pytest.mark.parametrize("kind", ["ordinary", "chat", "ids_and_timestamps", "hex", "digits"])
async def test_an_ordinary_result_is_not_cut_much_below_the_cap(kind: str, count: Callable[[str], int]) -> None:
    items = [KINDS[kind]() for _ in range(1_000)]
    text, _ = await _listed(items)
    assert count(text) >= CAP * 0.8, kind


async def test_a_result_under_the_cap_is_whole(count: Callable[[str], int]) -> None:
    items = [KINDS["ordinary"]() for _ in range(20)]
    text, shown = await _listed(items)
    assert "truncated" not in shown and shown["data"] == items
