"""Two languages: zh-CN (default) and English.

Domain errors carry both languages in one message, ``"中文 / English"``; :func:`localise` picks
the half the user reads. Page labels live in :data:`LABELS`.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]
DEFAULT_LANG: Lang = "zh"
LANG_COOKIE = "huikuan_lang"

LABELS: dict[str, tuple[str, str]] = {
    "app_name": ("回款", "Huikuan"),
    "aging_title": ("应收账款账龄分析", "Receivables aging"),
    "as_of": ("截至日期", "As of"),
    "group_by": ("分组", "Group by"),
    "by_customer": ("按客户", "Customer"),
    "by_customer_type": ("按客户类型", "Customer type"),
    "by_salesperson": ("按销售员", "Salesperson"),
    "by_collector": ("按催收员", "Collector"),
    "show": ("查询", "Show"),
    "total": ("合计", "Total"),
    "total_receivable": ("应收总额", "Total receivable"),
    "overdue": ("已逾期", "Overdue"),
    "dso": ("应收账款周转天数 (DSO)", "DSO"),
    "days": ("天", "days"),
    "name": ("名称", "Name"),
    "current": ("未到期", "Not due"),
    "more_rows": (
        "另有 {n} 行未显示，请导出查看全部",
        "{n} more rows not shown: export to see all",
    ),
    "no_rows": ("截至该日没有未结应收", "Nothing outstanding on this date"),
    "export": ("导出", "Export"),
    "switch_lang": ("English", "中文"),
    "bucket_days": ("逾期 {name} 天", "{name} days overdue"),
    "nav_aging": ("账龄", "Aging"),
    "nav_customers": ("客户", "Customers"),
    "customers_title": ("客户", "Customers"),
    "search": ("搜索编码或名称", "Search code or name"),
    "customer_type": ("客户类型", "Customer type"),
    "all": ("全部", "All"),
    "salesperson": ("销售员", "Salesperson"),
    "collector": ("催收员", "Collector"),
    "open_amount": ("未结金额", "Open"),
    "overdue_amount": ("逾期金额", "Overdue"),
    "export_xlsx": ("导出 Excel", "Export to Excel"),
    "page_of": (
        "第 {page} / {pages} 页，共 {total} 个客户",
        "Page {page} of {pages}, {total} customers",
    ),
    "previous": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "code": ("编码", "Code"),
    "profile": ("基本信息", "Profile"),
    "contacts": ("联系人", "Contacts"),
    "role": ("职务", "Role"),
    "phone": ("电话", "Phone"),
    "valid": ("有效期", "Valid"),
    "decision_maker": ("决策人", "Decision maker"),
    "contracts": ("合同", "Contracts"),
    "terms_days": ("账期（天）", "Terms (days)"),
    "dispute_window": ("异议期（天）", "Dispute window (days)"),
    "late_fee": ("滞纳金日率", "Late fee per day"),
    "open_invoices": ("未结发票", "Open invoices"),
    "invoice_number": ("发票号", "Invoice"),
    "issue_date": ("开票日期", "Issued"),
    "due_date": ("到期日", "Due"),
    "amount": ("金额", "Amount"),
    "days_overdue": ("逾期天数", "Days late"),
    "bucket": ("账龄", "Bucket"),
    "payments": ("最近收款", "Recent payments"),
    "received_on": ("收款日期", "Received"),
    "method": ("方式", "Method"),
    "reference": ("流水号", "Reference"),
    "unapplied": ("未核销", "Unapplied"),
    "timeline": ("变更记录", "Timeline"),
    "when": ("时间", "When"),
    "who": ("操作人", "Who"),
    "what": ("内容", "What"),
    "none": ("无", "None"),
    "not_found_title": ("出错了", "Something is wrong"),
    "back": ("返回", "Back"),
    "nav_invoices": ("发票", "Invoices"),
    "nav_payments": ("收款", "Payments"),
    "invoices_title": ("发票", "Invoices"),
    "payments_title": ("收款", "Payments"),
    "status": ("状态", "Status"),
    "status_open": ("未结", "Open"),
    "status_paid": ("已结清", "Paid"),
    "status_void": ("作废", "Void"),
    "invoices_page_of": (
        "第 {page} / {pages} 页，共 {total} 张发票",
        "Page {page} of {pages}, {total} invoices",
    ),
    "enter_payment": ("登记收款", "Enter a payment"),
    "customer_code": ("客户编码", "Customer code"),
    "payer": ("付款方", "Payer"),
    "pays_invoices": (
        "核销发票（可留空，按账龄最早的先核销）",
        "Invoices paid (empty: oldest first)",
    ),
    "save": ("保存", "Save"),
    "customer": ("客户", "Customer"),
    "nav_imports": ("导入", "Import"),
    "imports_title": ("导入数据", "Import"),
    "kind": ("导入内容", "What"),
    "kind_invoices": ("发票", "Invoices"),
    "kind_payments": ("收款", "Payments"),
    "kind_customers": ("客户", "Customers"),
    "file": ("文件（CSV 或 XLSX，支持 GBK）", "File (CSV or XLSX; GBK is fine)"),
    "upload_check": ("上传并检查", "Upload and check"),
    "column_mapping": ("列对应", "Columns"),
    "field": ("字段", "Field"),
    "column": ("文件中的列", "Column in the file"),
    "required": ("必填", "required"),
    "not_used": ("（不使用）", "(not used)"),
    "create_customers": ("自动创建未知客户", "Create unknown customers"),
    "date_format": ("日期格式（如 %d/%m/%Y，可留空）", "Date format (e.g. %d/%m/%Y, optional)"),
    "check_again": ("按此对应重新检查", "Check again with these columns"),
    "errors_found": (
        "发现 {n} 处错误，未写入任何数据。请修改文件后重新上传，或调整列对应。",
        "{n} problems found; nothing was written. Fix the file and upload it again, or change the columns.",
    ),
    "row": ("行", "Row"),
    "reason": ("原因", "Reason"),
    "would_import": (
        "检查通过：将新增 {created} 条，更新 {updated} 条，{unchanged} 条已存在不变。",
        "Check passed: {created} new, {updated} updated, {unchanged} already there and unchanged.",
    ),
    "imported": (
        "导入完成：新增 {created} 条，更新 {updated} 条，{unchanged} 条不变。",
        "Imported: {created} new, {updated} updated, {unchanged} unchanged.",
    ),
    "confirm_import": ("确认导入", "Import now"),
    "job_reading": ("正在读取文件…", "Reading the file…"),
    "job_checking": ("正在检查：{done} / {total} 行", "Checking: {done} of {total} rows"),
    "job_writing": ("正在写入：{done} / {total} 行", "Writing: {done} of {total} rows"),
    "job_refresh": (
        "本页每秒自动刷新；离开本页不会中断导入。",
        "This page refreshes itself every second; leaving it does not stop the import.",
    ),
    "job_interrupted": (
        "导入被中断（服务器重启），未写入任何数据。请重新上传文件。",
        "The import was interrupted (the server restarted); nothing was written. Upload the file again.",
    ),
    "dso_trend": ("DSO 走势（月末，天）", "DSO by month end (days)"),
    "top_overdue": ("逾期金额最多的客户", "Customers with the most overdue"),
    "enter_invoice": ("登记发票", "Enter an invoice"),
    "order_number": ("订单号", "Order number"),
    "from_where": ("来源", "From"),
    "before": ("变更前", "Before"),
    "after": ("变更后", "After"),
    "allocations": ("核销记录", "Applied"),
    "paid_by": ("核销来源", "Paid by"),
    "effective_on": ("生效日期", "Effective"),
    "reversed_on": ("冲销日期", "Reversed"),
    "payment_no": ("收款 #{n}", "Payment #{n}"),
    "credit_note_no": ("贷项通知 {n}", "Credit note {n}"),
    "credit_notes": ("贷项通知", "Credit notes"),
    "description": ("说明", "Description"),
    "apply_credit": ("核销到发票", "Apply to invoices"),
    "apply_credit_help": (
        "在要核销的发票后填写金额；合计不能超过未核销余额。",
        "Enter the amount for each invoice to pay; together they may not exceed what is unapplied.",
    ),
    "apply_amount": ("本次核销", "Apply"),
    "apply": ("核销", "Apply"),
    "no_open_invoices": ("该客户没有未结发票", "The customer has no open invoices"),
    "reverse_payment": ("冲销收款", "Reverse the payment"),
    "reverse_help": (
        "退票或录错时冲销：已核销的发票恢复为未结，记录保留。",
        "For a bounced or mistaken payment: the invoices it paid are open again; history is kept.",
    ),
    "reverse": ("冲销", "Reverse"),
    "action_create": ("新建", "Created"),
    "action_update": ("修改", "Changed"),
    "action_allocate": ("核销", "Applied"),
    "action_reverse": ("冲销", "Reversed"),
    "action_void": ("作废", "Voided"),
    "action_contact": ("联系人变更", "Contact changed"),
    "action_import": ("导入", "Imported"),
    "entity_invoice": ("发票", "invoice"),
    "entity_payment": ("收款", "payment"),
    "entity_credit_note": ("贷项通知", "credit note"),
    "entity_customer": ("客户", "customer"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "csrf_failed": ("页面已过期，请重新登录", "The page expired: please sign in again"),
}


def label(key: str, lang: Lang, **values: object) -> str:
    zh, en = LABELS[key]
    return (zh if lang == "zh" else en).format(**values)


def localise(message: str, lang: Lang) -> str:
    """The user's half of a bilingual ``"中文 / English"`` message."""
    if " / " not in message:
        return message
    zh, en = message.split(" / ", 1)
    return zh if lang == "zh" else en


def pick_lang(query: str | None, cookie: str | None, accept_language: str | None) -> Lang:
    """An explicit ``?lang=`` wins, then the remembered cookie, then the browser's first choice."""
    for value in (query, cookie):
        if value in ("zh", "en"):
            return value  # type: ignore[return-value]
    if accept_language and accept_language.lower().startswith("en"):
        return "en"
    return DEFAULT_LANG
