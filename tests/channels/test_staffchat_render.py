"""The staff chats' Markdown: document text made inert, and leads labelled as leads."""
from kbase.channels.staffchat.markdown import render_answer
from kbase.model import Answer, Citation

LEAD = Citation(doc="plan", title="方案", ref="三(一)1", heading="1.加强**监督**", quote="加强监督管理。", text="加强监督管理。")


def test_leads_are_labelled_as_leads_and_an_answers_sources_as_its_basis():
    leads = render_answer(Answer(question="q", status="related", answer="未找到直接规定。", citations=[LEAD]))
    assert "**相关条款（不是答案，仅供参考）**" in leads and "**出处**" not in leads
    answered = render_answer(Answer(question="q", status="answered", answer="答案。", citations=[LEAD]))
    assert "**出处**" in answered and "相关条款" not in answered
    assert "加强**监督**" not in answered  # the heading's Markdown is made inert
