"""Server-rendered pages for people. zh-CN by default; ``?lang=en`` switches and is remembered."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from huikuan.core.dates import format_date
from huikuan.core.money import format_amount
from huikuan.customers.models import CUSTOMER_TYPE_LABELS_ZH, CustomerType
from huikuan.ledger.aging import AgingBy, AgingReport, aging_report
from huikuan.web.deps import AsOfDep, CompanyDep, LangDep, SessionDep
from huikuan.web.i18n import LANG_COOKIE, Lang, label

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
TEMPLATES.env.filters["money"] = format_amount
TEMPLATES.env.filters["date"] = format_date
PAGE_ROWS = 50
BAR_WIDTH = 600

router = APIRouter(include_in_schema=False)


def _row_name(report: AgingReport, key: str, name: str, lang: Lang) -> str:
    """Customer types are shown by their label in the user's language."""
    if report.by is not AgingBy.CUSTOMER_TYPE:
        return name
    try:
        ctype = CustomerType(key)
    except ValueError:
        return key
    return CUSTOMER_TYPE_LABELS_ZH[ctype] if lang == "zh" else ctype.value.replace("_", " ")


def _bars(report: AgingReport) -> list[dict[str, object]]:
    """Horizontal bars, one per bucket, scaled to the largest bucket; drawn as inline SVG."""
    largest = max(report.bucket_totals.values(), default=0) or 1
    return [
        {
            "name": name,
            "amount": report.bucket_totals[name],
            "width": round(BAR_WIDTH * report.bucket_totals[name] / largest),
            "overdue": i > 0,
        }
        for i, name in enumerate(report.bucket_names)
    ]


@router.get("/", response_class=HTMLResponse)
def aging_page(
    request: Request,
    session: SessionDep,
    company: CompanyDep,
    as_of: AsOfDep,
    lang: LangDep,
    by: AgingBy = AgingBy.CUSTOMER,
    set_lang: Annotated[str | None, Query(alias="lang")] = None,
) -> HTMLResponse:
    report = aging_report(
        session, company_id=company.id, as_of=as_of, by=by, currency=company.currency
    )
    top = sorted(report.rows, key=lambda r: r.total, reverse=True)[:PAGE_ROWS]
    overdue = report.total - report.bucket_totals[report.bucket_names[0]]
    context = {
        "t": lambda key, **kw: label(key, lang, **kw),
        "lang": lang,
        "company": company,
        "report": report,
        "rows": [(r, _row_name(report, r.key, r.name, lang)) for r in top],
        "hidden": max(0, len(report.rows) - PAGE_ROWS),
        "overdue": overdue,
        "bars": _bars(report),
        "bar_width": BAR_WIDTH,
        "groupings": [g.value for g in AgingBy],
    }
    response = TEMPLATES.TemplateResponse(request, "aging.html", context)
    if set_lang in ("zh", "en"):
        response.set_cookie(
            LANG_COOKIE, set_lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax"
        )
    return response
