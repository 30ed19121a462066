"""The LLM mode end to end: Service and `ask --json` over the real index, the real OpenAI client, a fake server."""
import json

from click.testing import CliRunner

from bot import cli
from kbase.service import Service
from tests.deciding import LENIENT_THRESHOLD
from tests.fakes.fake_openai import FakeOpenAI, status, tool_call

QUESTION = "开封市2025年PM2.5目标是多少？"
QUOTE = "全市细颗粒物浓度改善目标为43微克/立方米"


def test_service_serves_a_verified_llm_answer_and_falls_back_on_failure(indexed_settings):
    with FakeOpenAI() as server:
        settings = indexed_settings(llm_base_url=server.base_url, llm_model="fake", llm_api_key="k", llm_timeout=5,
                                     answer_threshold=LENIENT_THRESHOLD)
        service = Service(settings)
        server.script(tool_call({"answer": f"到2025年，{QUOTE}[1]。", "found": True,
                                 "citations": [{"n": 1, "quote": QUOTE}]}))
        answer = service.answer(QUESTION)
        assert answer.mode == "llm" and answer.status == "answered"
        assert answer.citations[0].ref == "二" and "43微克/立方米" in answer.answer
        server.script(tool_call({"answer": "到2025年，目标为35微克/立方米[1]。", "found": True,
                                 "citations": [{"n": 1, "quote": QUOTE}]}))
        wrong = service.answer(QUESTION)
        assert wrong.mode == "extractive" and "43微克/立方米" in wrong.answer
        server.script(status(500))
        failed = service.answer(QUESTION)
        assert failed.mode == "extractive" and failed.citations[0].ref == "二"
        asked = len(server.requests)
        assert service.answer("开封市地铁几号线最长").status == "not_found"
        assert len(server.requests) == asked  # not_found never goes to the model


def test_ask_json_reports_the_mode(indexed_settings):
    with FakeOpenAI() as server:
        settings = indexed_settings(llm_base_url=server.base_url, llm_model="fake", answer_threshold=LENIENT_THRESHOLD)
        server.script(tool_call({"answer": f"{QUOTE}[1]。", "found": True, "citations": [{"n": 1, "quote": QUOTE}]}))
        env = {"POLICYBOT_DATA_DIR": str(settings.data_dir), "POLICYBOT_EMBEDDINGS": settings.embeddings,
               "POLICYBOT_ANSWER_THRESHOLD": str(LENIENT_THRESHOLD),
               "POLICYBOT_LLM_BASE_URL": server.base_url, "POLICYBOT_LLM_MODEL": "fake", "POLICYBOT_LLM_API_KEY": "k"}
        result = CliRunner().invoke(cli, ["ask", "--json", QUESTION], env=env, catch_exceptions=False)
        assert json.loads(result.stdout)["mode"] == "llm"
