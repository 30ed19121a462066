"""policybot command line: ask, chat, ingest, sources, show, tasks, eval, bench, the Telegram bot, the web server,
reminders and calendar feeds."""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import sys
from pathlib import Path

import click

from kbase.settings import Settings

log = logging.getLogger("policybot")


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _service(ctx: click.Context, today: dt.datetime | None = None, long_running: bool = False):
    from kbase.service import Service
    settings: Settings = ctx.obj
    if today:
        settings = settings.model_copy(update={"today": today.date()})
    try:
        return Service(settings, progress=_progress, long_running=long_running)
    except (OSError, ValueError, ImportError) as exc:
        raise click.ClickException(f"无法打开知识库：{exc}") from exc


@contextlib.contextmanager
def _building():
    """A build that cannot be written (full disk, read-only data dir) ends with a message; nothing changed."""
    try:
        yield
    except OSError as exc:
        log.warning("build failed: %s", exc)
        raise click.ClickException(f"索引未能建成（{exc}）；知识库保持原样，原有索引照常使用。") from exc


def _emit(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))
    sys.stdout.flush()


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """policybot: grounded answers over Kaifeng's eco-environment plan and national environmental laws."""
    from pydantic import ValidationError

    from kbase.channels.logs import configure_logging
    try:
        ctx.obj = Settings()
    except ValidationError as exc:  # a POLICYBOT_ variable with a value it cannot take
        problems = "; ".join(f"POLICYBOT_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise click.UsageError(f"环境变量设置有误：{problems}") from None
    configure_logging(ctx.obj.log_level)


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="print the CONTRACTS.md answer object")
@click.option("--as", "audience", type=click.Choice(["public", "staff"]), default="staff", show_default=True)
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="date for deadline reasoning")
@click.pass_context
def ask(ctx, question: str, as_json: bool, audience: str, today) -> None:
    """Answer QUESTION; `-` reads one question per line from stdin (one JSON object per line)."""
    from kbase.channels.text import render_text, safe_answer
    service = _service(ctx, today)
    # undecodable bytes in a line must not end the batch: they become U+FFFD and that line gets its answer
    lines = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace") if question == "-" else [question]
    for line in lines:
        answer = safe_answer(service, line.rstrip("\r\n"), audience)
        _emit(answer.contract()) if as_json else click.echo(render_text(answer) + "\n")


@cli.command()
@click.option("--as", "audience", type=click.Choice(["public", "staff"]), default="staff", show_default=True)
@click.pass_context
def chat(ctx, audience: str) -> None:
    """Interactive questions; follow-ups such as 那配合单位呢？ refer to the previous answer."""
    from kbase.answering.session import Session
    from kbase.channels.text import render_text, safe_answer
    service = _service(ctx, long_running=True)
    session = Session(ttl_seconds=ctx.obj.session_ttl_seconds)
    click.echo("请输入问题（空行或 Ctrl-D 退出）。")
    while True:
        try:
            question = input("问> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not question:
            break
        click.echo(render_text(safe_answer(service, question, audience, session)) + "\n")


@cli.group(invoke_without_command=True)
@click.option("--rebuild", is_flag=True, help="rebuild even when the index is up to date")
@click.pass_context
def ingest(ctx, rebuild: bool) -> None:
    """Build the index of the knowledge base (atomic: a crash keeps the previous index); add or remove documents."""
    if ctx.invoked_subcommand:
        return
    from kbase.store.build import ensure_index
    with _building():
        index = ensure_index(ctx.obj, progress=_progress, rebuild=rebuild)
    click.echo(f"索引就绪：{len(index.docs)} 份文件，{len(index.clauses)} 个条款，{len(index.tasks)} 项任务。")


@ingest.command("add")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "doc_id", help="document id (default: derived from the title)")
@click.option("--title")
@click.option("--issuer")
@click.option("--doc-number", help="文号, e.g. 汴政办〔2023〕45号")
@click.option("--issued", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--effective", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--expires", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--visibility", type=click.Choice(["public", "internal"]), default="public", show_default=True)
@click.pass_context
def ingest_add(ctx, path: Path, doc_id, title, issuer, doc_number, issued, effective, expires, visibility) -> None:
    """Add a .txt .md .docx .html or .pdf document; metadata printed in it fills absent flags."""
    from kbase.store.library import LibraryError, add_document
    dates = {k: v.date() if v else None for k, v in (("issued", issued), ("effective", effective), ("expires", expires))}
    try:
        with _building():
            meta = add_document(ctx.obj, path, progress=_progress, id=doc_id, title=title, issuer=issuer,
                                doc_number=doc_number, visibility=visibility, **dates)
    except LibraryError as exc:
        raise click.ClickException(str(exc)) from exc
    version = f"（{meta.series} 的新版本）" if meta.series else ""
    click.echo(f"已添加：{meta.id}《{meta.title}》{version}")


@ingest.command("remove")
@click.argument("doc_id")
@click.pass_context
def ingest_remove(ctx, doc_id: str) -> None:
    """Remove a document from the knowledge base."""
    from kbase.store.library import LibraryError, remove_document
    try:
        with _building():
            meta = remove_document(ctx.obj, doc_id, progress=_progress)
    except LibraryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已删除：{meta.id}《{meta.title}》")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sources(ctx, as_json: bool) -> None:
    """List the documents in the knowledge base."""
    docs = _service(ctx).sources()
    if as_json:
        _emit([d.model_dump(mode="json") for d in docs])
        return
    for d in docs:
        click.echo(f"{d.id}\t{d.title}\t{d.issuer or ''}\t{d.issued or ''}\t施行 {d.effective or '—'}\t"
                   f"{d.kind}\t{d.visibility}\t{d.origin}" + (f"\t版本系列 {d.series}" if d.series else "")
                   + (f"\t已废止（{d.repealed_on or ''} 由 {d.repealed_by}）" if d.repealed_by else ""))


@cli.command()
@click.argument("doc")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx, doc: str, ref: str, as_json: bool) -> None:
    """Show clause REF of document DOC with its heading path and metadata."""
    from kbase.channels.text import render_clause
    clause = _service(ctx).show(doc, ref)
    if clause is None:
        raise click.ClickException(f"找不到条款：{doc} {ref}（示例：show kaifeng-eco-plan-2023-2025 三(三)5）")
    _emit(clause.model_dump(mode="json")) if as_json else click.echo(render_clause(clause))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="the CONTRACTS.md task array")
@click.option("--dept", help="a department, aliases accepted (发改委, 环保局 …)")
@click.option("--year", type=int, help="tasks with a deadline in this year")
@click.option("--doc", help="only this document id")
@click.pass_context
def tasks(ctx, as_json: bool, dept: str | None, year: int | None, doc: str | None) -> None:
    """The task ledger: who leads, supports, shares and implements each numbered task, by when."""
    from kbase.channels.text import render_task
    found = _service(ctx).tasks(dept=dept, year=year, doc=doc)
    if as_json:
        _emit([t.model_dump(mode="json") for t in found])
        return
    for task in found:
        click.echo(render_task(task) + "\n")


@cli.command("eval")
@click.argument("questions_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--mode", type=click.Choice(["extractive", "llm", "both"]), default="both", show_default=True,
              help="llm needs POLICYBOT_LLM_BASE_URL and _MODEL; both compares the modes available")
@click.option("--baseline", is_flag=True, help="also score a naive LangChain RAG (500-char chunks, e5, top 4) "
              "over the same documents")
@click.option("-v", "--verbose", is_flag=True)
@click.pass_context
def eval_command(ctx, questions_file: str, mode: str, baseline: bool, verbose: bool) -> None:
    """Pass rates per kind on a question set in the format of shared/eval/dev.jsonl."""
    from kbase.bench.baseline import naive_baseline
    from kbase.bench.evaluate import format_comparison, format_report, load_questions, run_eval
    from kbase.service import Service
    settings: Settings = ctx.obj
    modes = [m for m in ("extractive", "llm") if mode in (m, "both") and (m == "extractive" or settings.llm_enabled)]
    if not modes:
        raise click.ClickException("LLM 模式需要设置 POLICYBOT_LLM_BASE_URL 和 POLICYBOT_LLM_MODEL。")
    questions = load_questions(questions_file)
    reports = {}
    for name in modes:
        service = Service(settings if name == "llm" else settings.model_copy(update={"llm_base_url": None}),
                          progress=_progress)
        reports[name] = run_eval(questions, lambda q: service.answer(q).contract())
    if baseline:
        with naive_baseline(settings, _progress) as ask:
            reports["naive baseline"] = run_eval(questions, ask)
    click.echo(format_comparison(reports) if len(reports) > 1 else format_report(reports[modes[0]], verbose))


@cli.command()
@click.option("--quick", is_flag=True, help="3 questions, no rebuild: a smoke run")
@click.pass_context
def bench(ctx, quick: bool) -> None:
    """Startup, warm ms per question and peak RSS, side by side with a naive LangChain baseline."""
    from kbase.bench.compare import format_table, run_bench
    from kbase.bench.questions import bench_questions
    click.echo(format_table(run_bench(ctx.obj, bench_questions()[:3] if quick else bench_questions(), quick=quick)))


@cli.command()
@click.option("--webhook-url", help="serve a webhook at this public URL instead of long polling")
@click.option("--listen", default="127.0.0.1", show_default=True)
@click.option("--port", default=8443, show_default=True)
@click.pass_context
def telegram(ctx, webhook_url: str | None, listen: str, port: int) -> None:
    """Run the Telegram bot until SIGINT/SIGTERM."""
    from kbase.channels.telegram.run import run_telegram
    sys.exit(run_telegram(ctx.obj, webhook_url=webhook_url, listen=listen, port=port))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), help="processes serving on the same build "
              "[default: POLICYBOT_WEB_WORKERS, 1]")
@click.pass_context
def serve(ctx, host: str, port: int, workers: int | None) -> None:
    """Serve the citizen page, the staff page and the JSON API until SIGINT/SIGTERM."""
    from kbase.channels.web.run import run_web
    settings = ctx.obj.model_copy(update={"web_workers": workers}) if workers else ctx.obj
    sys.exit(run_web(settings, host=host, port=port))


# deadline reminders and calendar feeds (kbase/reminders/)

@cli.command()
@click.option("--dry-run", is_flag=True, help="say what would be sent; send and record nothing")
@click.option("--json", "as_json", is_flag=True, help="a JSON array, one object per reminder (CONTRACTS.md)")
@click.option("--department", help="preview this department's reminders, subscribed or not (sends nothing)")
@click.pass_context
def remind(ctx, dry_run: bool, as_json: bool, department: str | None) -> None:
    """One reminder pass (for cron): each subscription's deadlines due in 30 days, 7 days, or overdue, once each."""
    from kbase.channels.staffchat.delivery import deliverers
    from kbase.reminders.digest import render_digest
    from kbase.reminders.reminders import ReminderError, Reminders
    from kbase.reminders.store import ReminderStoreError
    service = _service(ctx)
    try:
        reminders = Reminders(service)
        if department:
            found = reminders.preview(department)
            batches = [(reminders.department(department), found)] if found else []
        else:
            deliveries = reminders.run_pass(deliverers(ctx.obj), dry_run=dry_run)
            batches = [(d.subscription.department, d.reminders) for d in deliveries]
            failed = [d for d in deliveries if not d.delivered and not dry_run]
            if failed:
                click.echo(f"{len(failed)} 份提醒未能送达，下次运行时重试（详见日志）。", err=True)
    except (ReminderError, ReminderStoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        _emit([r.contract() for _, found in batches for r in found])
        return
    for unit, found in batches:
        click.echo("\n".join(render_digest(unit, found, service.today())) + "\n")
    if not batches:
        click.echo("今天没有需要发送的提醒。", err=True)


@cli.command()
@click.argument("department")
@click.pass_context
def calendar(ctx, department: str) -> None:
    """DEPARTMENT's deadlines as an iCalendar feed on stdout (calendar 市生态环境局 > deadlines.ics)."""
    from urllib.parse import quote

    from kbase.reminders.reminders import ReminderError, Reminders
    from kbase.reminders.store import ReminderStoreError
    service = _service(ctx)
    try:
        _, feed = Reminders(service).calendar(department, ctx.obj.public_url.rstrip("/") + "/staff?dept=" + quote(department))
    except (ReminderError, ReminderStoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    sys.stdout.buffer.write(feed)
    sys.stdout.flush()


if __name__ == "__main__":
    cli()
