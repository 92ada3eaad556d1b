"""Page: the collector's worklist, their home page — whom to contact today, ranked by the
expected value of acting, why each customer is there, the payment habits, one click to the
customer's log-a-contact form, and the same list as a workbook (``/api/worklist?format=xlsx``).

The list keeps to the customers the user sees. An amount in the filters that cannot be read is
named beside the filters, in place of the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from huikuan.collections.worklist import WorklistRow
from huikuan.collections.worklist_api import visible_worklist, whose_list
from huikuan.core.errors import InvalidInput
from huikuan.customers.models import CUSTOMER_TYPE_LABELS_ZH, CustomerType
from huikuan.users.rules import Right
from huikuan.web.deps import AsOfDep, Principal, SessionDep, require
from huikuan.web.i18n import localise
from huikuan.web.pages import TEMPLATES, _t, page_lang

router = APIRouter(include_in_schema=False)
Logger = Annotated[Principal, Depends(require(Right.LOG_CONTACTS))]
Text = Annotated[str | None, Query(max_length=60)]


@dataclass(frozen=True, slots=True)
class Filters:
    customer_type: str = ""
    min_amount: str = ""
    max_amount: str = ""
    salesperson: str = ""
    collector: str = ""  # whose list, as shown: empty for everyone's

    def query(self, **more: str) -> str:
        """The filters as a query string; the collector is always written, so that the export
        is the list on the screen even when it was the default."""
        values = {"type": self.customer_type, "min": self.min_amount, "max": self.max_amount,
                  "salesperson": self.salesperson, **more}  # fmt: skip
        kept = {k: v for k, v in values.items() if v}
        return urlencode({**kept, "collector": self.collector})


def _type(value: str | None) -> str:
    """A customer type the page knows, or none (an unknown one from an old link is ignored)."""
    return value if value in {t.value for t in CustomerType} else ""


@router.get("/worklist", response_class=HTMLResponse)
def worklist_page(
    request: Request, session: SessionDep, principal: Logger, as_of: AsOfDep,
    customer_type: Annotated[str | None, Query(alias="type", max_length=20)] = None,
    min_amount: Annotated[str, Query(alias="min", max_length=40)] = "",
    max_amount: Annotated[str, Query(alias="max", max_length=40)] = "",
    salesperson: Text = None, collector: Text = None, lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:  # fmt: skip
    """The ranked list on ``as_of`` with its filters (type, amount at stake, salesperson, and
    the collector for those who see more than their own customers)."""
    chosen = page_lang(principal, lang)
    whose = whose_list(principal, collector)
    filters = Filters(
        _type(customer_type), min_amount.strip(), max_amount.strip(), (salesperson or "").strip(),
        whose or "",
    )  # fmt: skip
    rows: list[WorklistRow] = []
    error = None
    try:
        rows = visible_worklist(
            session, principal, as_of=as_of, collector=whose,
            customer_type=filters.customer_type, min_amount=filters.min_amount,
            max_amount=filters.max_amount, salesperson=filters.salesperson,
        )  # fmt: skip
    except InvalidInput as exc:
        error = localise(exc.message, chosen)
    context = {
        "t": _t(chosen), "lang": chosen, "company": principal.company, "user": principal.user,
        "csrf": principal.csrf_token or "", "as_of": as_of, "filters": filters, "error": error,
        "rows": [(row, [localise(r.text, chosen) for r in row.reasons]) for row in rows],
        "total_value": sum(r.value for r in rows), "total_at_stake": sum(r.at_stake for r in rows),
        "types": CUSTOMER_TYPE_LABELS_ZH, "whose": whose,
        "choose_collector": principal.scope.field != "collector",
        "choose_salesperson": principal.scope.field != "salesperson",
        "export": f"/api/worklist?{filters.query(as_of=as_of.isoformat(), format='xlsx')}",
    }  # fmt: skip
    status = 422 if error else 200
    return TEMPLATES.TemplateResponse(request, "worklist.html", context, status_code=status)
