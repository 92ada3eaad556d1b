"""What the bank pages show besides the rows: their labels (added to ``i18n.LABELS`` when the
pages are loaded, like every other page's) and the edit form of one line as the clerk typed it."""

from __future__ import annotations

from dataclasses import dataclass

from huikuan.core.money import decimal_string
from huikuan.reconciliation.bank_queries import LineView
from huikuan.web.i18n import LABELS

BANK_LABELS: dict[str, tuple[str, str]] = {
    "nav_bank": ("银行流水", "Bank"),
    "bank_title": ("银行流水与收款核销", "Bank lines and cash application"),
    "bank_import_title": ("导入银行流水", "Import a bank statement"),
    "bank_file": (
        "对账单文件（CSV、Excel、MT940 或 camt.053）",
        "Statement file (CSV, Excel, MT940 or camt.053)",
    ),
    "bank_account": (
        "入账账户（文件中没有账号时必填）",
        "Our account (needed when the file names none)",
    ),
    "bank_mapping": (
        "列对应（可选，每行 字段=列名）",
        "Column mapping (optional, one field=column a line)",
    ),
    "bank_mapping_help": ("可用字段：{fields}", "Fields: {fields}"),
    "bank_upload": ("上传对账单", "Upload a statement"),
    "bank_account_mapping": ("入账账户与列对应", "Account and columns"),
    "bank_preview_button": ("上传并预览", "Upload and preview"),
    "bank_check_again": ("按此重新检查", "Check again"),
    "bank_confirm_import": ("确认导入并匹配", "Import and match"),
    "bank_preview": ("预览：尚未导入任何流水", "Preview: nothing imported yet"),
    "bank_format": ("格式", "Format"),
    "bank_our_account": ("入账账户", "Our account"),
    "bank_period": ("对账期间", "Period"),
    "bank_balances": ("期初 / 期末余额", "Opening / closing balance"),
    "bank_lines_in_file": ("文件中的流水", "Lines in the file"),
    "bank_lines_known": ("已导入过", "Imported before"),
    "bank_lines_new": ("将新增", "To be added"),
    "bank_money_in": ("新增到账金额", "Money in, new lines"),
    "bank_first_lines": ("前 {n} 笔流水（按文件读取）", "The first {n} lines as read"),
    "bank_known_tag": ("已导入", "imported before"),
    "bank_errors": (
        "文件有 {n} 处错误，未导入任何流水",
        "{n} errors in the file: nothing imported",
    ),
    "bank_in_request": (
        "导入和匹配在本次请求中完成，大文件（上万笔）需要稍候；更大的文件请用 huikuan bank import。",
        "The import and matching run in this request: a large file (ten thousand lines) takes a "
        "while; use huikuan bank import for larger ones.",
    ),
    "bank_done": ("导入完成", "Imported"),
    "bank_added": ("新增流水", "Lines added"),
    "bank_auto": ("自动核销", "Applied automatically"),
    "bank_auto_amount": ("自动核销金额", "Amount applied"),
    "bank_waiting_after": ("待处理", "Waiting"),
    "bank_nothing_new": (
        "文件中的流水都已导入过，没有新增任何内容。",
        "Every line in the file was imported before: nothing added.",
    ),
    "bank_to_queue": ("去处理待确认的流水", "Go to the lines waiting"),
    "bank_status_waiting": ("待处理", "Waiting"),
    "bank_status_new": ("未匹配", "Not matched"),
    "bank_status_suggested": ("待确认", "To confirm"),
    "bank_status_unknown": ("无法识别", "Unknown payer"),
    "bank_status_applied": ("已核销", "Applied"),
    "bank_status_outgoing": ("付出", "Money out"),
    "bank_status_all": ("全部", "All"),
    "bank_match_again": ("重新匹配", "Match again"),
    "bank_match_result": (
        "匹配 {lines} 笔：自动核销 {auto} 笔（{amount}），待确认 {suggested} 笔，无法识别 {unknown} 笔",
        "Matched {lines} lines: {auto} applied automatically ({amount}), {suggested} to confirm, "
        "{unknown} unknown",
    ),
    "bank_booked_on": ("记账日期", "Booked"),
    "bank_payer_account": ("付款账号", "Payer account"),
    "bank_remittance": ("附言", "Remittance"),
    "bank_candidates": ("候选与处理", "Candidates and actions"),
    "bank_confidence": ("可信度 {p}%", "{p}% sure"),
    "bank_left_unapplied": ("余额挂账 {amount}", "{amount} left unapplied"),
    "bank_all_unapplied": ("全部挂账，不核销发票", "all left unapplied, no invoice"),
    "bank_confirm": ("确认", "Confirm"),
    "bank_remember_payer": ("记住此付款人", "Remember this payer"),
    "bank_no_candidate": ("没有候选：请在下面选择客户", "No candidate: choose the customer below"),
    "bank_edit_split": ("修改或拆分", "Edit or split"),
    "bank_edit_help": (
        "填写客户编码，再填发票号和金额；没有分配到发票的部分作为该客户的未核销款。",
        "Give the customer code, then invoices and amounts; what is not applied stays unapplied "
        "on the customer.",
    ),
    "bank_apply": ("核销", "Apply"),
    "bank_applied_by": ("核销人", "Applied by"),
    "bank_auto_by": ("系统自动", "automatic"),
    "bank_payment": ("收款 #{id}", "Payment #{id}"),
    "bank_undo": ("撤销", "Undo"),
    "bank_undo_reason": ("撤销原因", "Why"),
    "bank_undo_on": ("冲销日期（默认今天）", "Reversed on (default today)"),
    "bank_applied_note": (
        "流水 #{id} 已核销为收款 #{payment}",
        "Line #{id} applied as payment #{payment}",
    ),
    "bank_undone_note": (
        "流水 #{id} 已撤销核销，重新等待处理",
        "Line #{id} undone: it waits again",
    ),
    "bank_no_lines": ("没有流水", "No lines"),
    "bank_page_of": (
        "第 {page} / {pages} 页，共 {total} 笔，合计 {amount}",
        "Page {page} of {pages}, {total} lines, {amount} in all",
    ),
    "bank_line_no": ("流水 #{id}", "Line #{id}"),
}
LABELS.update(BANK_LABELS)

EDIT_ROWS = 3  # blank invoice rows offered beyond the ones filled in


@dataclass(frozen=True, slots=True)
class LineForm:
    """The edit (or undo) form of one line: as suggested, or as typed when it was refused."""

    line_id: int
    customer: str = ""
    pairs: tuple[tuple[str, str], ...] = ()  # (invoice number, amount as typed)
    learn_payer: bool = True
    reason: str = ""  # the undo form's
    on: str = ""
    error: str = ""
    kind: str = "apply"  # apply or undo

    @property
    def rows(self) -> list[tuple[str, str]]:
        """The invoice rows shown: those filled in, then blank ones to split further."""
        return [*self.pairs, *[("", "")] * EDIT_ROWS]


def suggested_form(row: LineView) -> LineForm:
    """The edit form filled in with the best candidate."""
    best = row.candidates[0] if row.candidates else None
    pairs = tuple((n, decimal_string(a)) for n, a in best.allocations) if best else ()
    return LineForm(row.id, best.customer_code if best else "", pairs)
