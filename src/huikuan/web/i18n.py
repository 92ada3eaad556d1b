"""Two languages: zh-CN (default) and English.

Domain errors carry both languages in one message, ``"中文 / English"``; :func:`localise` picks
the half the user reads. Page labels live in :data:`LABELS`.
"""

from __future__ import annotations

from typing import Literal

from huikuan.collections.rules import CHANNEL_LABELS_ZH

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
    "credit": ("信用", "Credit"),
    "blacklist_warning": ("该客户与不良客户名单相符", "This customer matches the blacklist"),
    "hold_credit_hold": ("信用冻结", "Credit hold"),
    "hold_supply_stop": ("暂停供货", "Supply stopped"),
    "grade": ("信用等级", "Grade"),
    "score": ("评分", "Score"),
    "credit_limit": ("信用额度", "Credit limit"),
    "until": ("至", "until"),
    "override": ("手工调整", "set by hand"),
    "exposure": ("已占用", "Exposure"),
    "available": ("可用额度", "Available"),
    "review_on": ("复评日期", "Review on"),
    "scorecard": ("评分明细", "Scorecard"),
    "dimension": ("维度", "Dimension"),
    "factor": ("指标", "Factor"),
    "value": ("数值", "Value"),
    "points": ("得分", "Points"),
    "weight": ("权重", "Weight"),
    "missing": ("缺失", "missing"),
    "grade_capped": ("等级最高为 {grade}", "grade capped at {grade}"),
    "assessed_on": ("评估日期", "Assessed on"),
    "assets": ("资产总额", "Total assets"),
    "liabilities": ("负债总额", "Total liabilities"),
    "limit_request_waiting": (
        "额度调整申请 {amount}（{who}）待审批",
        "Limit request {amount} by {who} waits for approval",
    ),
    "new_assessment": ("录入新评估", "New assessment"),
    "statement_year": ("报表年度", "Statement year"),
    "current_assets": ("流动资产", "Current assets"),
    "current_liabilities": ("流动负债", "Current liabilities"),
    "revenue": ("营业收入", "Revenue"),
    "net_profit": ("净利润", "Net profit"),
    "operating_cash_flow": ("经营现金流", "Operating cash flow"),
    "founded_on": ("成立日期", "Founded"),
    "employees": ("员工人数", "Employees"),
    "revenue_band": ("营收规模", "Revenue band"),
    "market_share": ("市场份额", "Market share"),
    "reputation": ("行业口碑（1–5）", "Trade reputation (1–5)"),
    "reputation_source": ("口碑来源", "Reputation source"),
    "report_grade": ("信用报告等级", "Credit report grade"),
    "report_source": ("报告来源", "Report source"),
    "public_records": ("公共记录", "Public records"),
    "guarantee": ("担保", "Guarantee"),
    "collateral_value": ("抵押物价值", "Collateral value"),
    "insured_limit": ("信用保险额度", "Insured limit"),
    "score_now": ("保存后立即评分", "Score right after saving"),
    "flag_kinds_help": (
        "公共记录写法 类型:来源:日期，多条用分号隔开；类型",
        "Public records as kind:source:date, several separated by ;, kinds",
    ),
    "score_again": ("按最新数据重新评分", "Score again with today's data"),
    "limit_override": (
        "手工调整额度（需他人审批）",
        "Set the limit by hand (needs another person's approval)",
    ),
    "valid_from": ("生效日期", "From"),
    "expires_on": ("到期日（临时额度）", "Ends (temporary)"),
    "request_approval": ("提交审批", "Ask for approval"),
    "holds": ("冻结与暂停供货", "Holds and supply stops"),
    "hold_kind": ("类型", "Kind"),
    "place_hold": ("冻结", "Place"),
    "release_hold": ("解除", "Release"),
    "nav_credit": ("信用审批", "Credit"),
    "nav_orders": ("订单", "Orders"),
    "approvals_title": ("待审批", "Waiting for approval"),
    "waiting_orders": ("待审批订单", "Orders waiting for credit"),
    "order_no": ("订单号", "Order"),
    "ordered_on": ("下单日期", "Ordered"),
    "reasons": ("原因", "Reasons"),
    "approve": ("批准", "Approve"),
    "reject": ("拒绝", "Reject"),
    "note": ("说明", "Note"),
    "limit_requests": ("待审批额度调整", "Limit requests waiting"),
    "requested_by": ("申请人", "Requested by"),
    "active_holds": ("冻结中的客户", "Customers on hold"),
    "placed_by": ("操作人", "Placed by"),
    "orders_title": ("销售订单", "Sales orders"),
    "new_order": ("新建订单（立即做信用检查）", "New order (checked against credit at once)"),
    "order_lines": ("明细：每行 品名,数量,单价", "Lines: one per row, item,quantity,unit price"),
    "approval": ("信用审批", "Credit"),
    "approval_pending": ("待审批", "Waiting"),
    "approval_approved": ("已批准", "Approved"),
    "approval_rejected": ("已拒绝", "Rejected"),
    "order_status_open": ("执行中", "Open"),
    "order_status_closed": ("已完成", "Closed"),
    "order_status_cancelled": ("已取消", "Cancelled"),
    "shipped": ("已发货", "Shipped"),
    "invoiced": ("已开票", "Invoiced"),
    "nav_blacklist": ("不良客户", "Blacklist"),
    "blacklist_title": ("不良客户名单", "Blacklist"),
    "add_to_blacklist": ("加入名单", "Add to the list"),
    "uscc": ("统一社会信用代码", "Unified social credit code"),
    "aliases": ("别名（用 | 分隔）", "Aliases (separated by |)"),
    "evidence": ("证据说明", "Evidence"),
    "source": ("来源", "Source"),
    "listed_on": ("列入日期", "Listed on"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "decisions": ("审批记录", "Decisions"),
    "decided_by": ("决定人", "Decided by"),
    "order_lines_title": ("订单明细", "Lines"),
    "quantity": ("数量", "Quantity"),
    "unit_price": ("单价", "Unit price"),
    "item": ("品名", "Item"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "csrf_failed": ("页面已过期，请重新登录", "The page expired: please sign in again"),
    # collections: strategies, the daily run, actions, templates
    "nav_collections": ("今日催收", "Collections"),
    "nav_strategies": ("催收策略", "Strategies"),
    "nav_templates": ("消息模板", "Templates"),
    "strategies_title": ("催收策略", "Collection strategies"),
    "strategy": ("策略", "Strategy"),
    "default_strategy": ("默认策略", "default"),
    "steps": ("步骤", "Steps"),
    "assignment_rules": (
        "分配规则（按优先级依次匹配，手工指定优先）",
        "Assignment rules (tried by priority; a choice by hand comes first)",
    ),
    "priority": ("优先级", "Priority"),
    "grades": ("信用等级", "Grades"),
    "min_overdue": ("逾期金额 ≥", "Overdue ≥"),
    "min_days_overdue": ("逾期天数 ≥", "Days overdue ≥"),
    "any_customer": ("所有客户", "Any customer"),
    "otherwise_default": ("其余客户：{code}", "Any other customer: {code}"),
    "export_yaml": ("导出 YAML", "Export YAML"),
    "edit_all_yaml": ("编辑全部策略和分配规则（YAML）", "Edit every strategy and the rules (YAML)"),
    "strategy_editor": ("编辑此策略（YAML）", "Edit this strategy (YAML)"),
    "check_and_save": ("检查并保存", "Check and save"),
    "strategy_saved": (
        "已保存：新建 {created}，更新 {updated}，未变 {unchanged}",
        "Saved: {created} created, {updated} updated, {unchanged} unchanged",
    ),
    "strategy_problems": (
        "文件有问题，未保存任何内容：",
        "The file has problems; nothing was saved:",
    ),
    "ladder": ("催收阶梯", "Ladder"),
    "trigger": ("触发", "Trigger"),
    "anchor": ("基准日", "From"),
    "anchor_due": ("到期日", "due date"),
    "anchor_settlement": ("结算日", "settlement day"),
    "working_days": ("工作日", "working days"),
    "calendar_days": ("天", "days"),
    "channel": ("渠道", "Channel"),
    "template": ("模板", "Template"),
    "wait_days": ("之后等待（天）", "Then wait (days)"),
    "conditions": ("条件", "Conditions"),
    "timeline_axis": ("相对到期日的天数", "Days from the due date"),
    "collection_settings": ("催收设置", "Collection settings"),
    "contacts_per_week": ("每周最多联系次数", "Contacts per week at most"),
    "quiet_start": ("免打扰开始", "Quiet from"),
    "quiet_end": ("免打扰结束", "Quiet until"),
    "message_language": ("消息语言", "Message language"),
    "pay_within_days": ("要求付款期限（工作日）", "Pay within (working days)"),
    "promise_grace_workdays": ("承诺付款宽限（工作日）", "Grace for promised money (working days)"),
    "statement_format": ("随提醒附对账明细", "Statement attached"),
    "sender_name": ("署名", "Signed by"),
    "sender_phone": ("联系电话", "Phone"),
    "sender_email": ("联系邮箱", "Email"),
    "bank_name": ("开户银行", "Bank"),
    "account_name": ("户名", "Account name"),
    "account_number": ("账号", "Account number"),
    "payment_note": ("付款说明", "Payment note"),
    "collections_title": ("今日催收", "Today's collections"),
    "business_date": ("业务日期", "Business date"),
    "preview_run": ("预览（试运行）", "Preview (dry run)"),
    "run_now": ("执行", "Run"),
    "calendar_unknown": (
        "{year} 年没有官方节假日安排，工作日暂按周一至周五计算。请在国务院公布安排后导入（huikuan calendar import）。",
        "No official holiday schedule for {year}: working days are assumed to be Monday to Friday. Import the schedule once published (huikuan calendar import).",
    ),
    "not_working_day": (
        "{day} 不是工作日{holiday}：日常任务不做任何催收，到期的步骤顺延到下一个工作日。",
        "{day} is not a working day{holiday}: the daily run chases nobody; due steps move to the next working day.",
    ),
    "preview_summary": ("试运行结果（未保存，未发送）", "Preview (nothing saved or sent)"),
    "runs_of_day": ("当日运行记录", "Runs on this date"),
    "no_run_yet": ("该日尚未运行", "No run for this date yet"),
    "customers_with_balance": ("有余额客户", "Customers with a balance"),
    "invoices_evaluated": ("检查发票", "Invoices checked"),
    "invoices_moved": ("推进发票", "Invoices moved up"),
    "count": ("数量", "Count"),
    "deferred_by_cap": ("超出每周联系上限而顺延（发票）", "Deferred by the weekly cap (invoices)"),
    "already_done_today": ("今天已处理（发票）", "Already done today (invoices)"),
    "not_chased": ("不催收（发票）", "Not chased (invoices)"),
    "holds_placed": ("暂停供货", "Supply stops placed"),
    "holds_released": ("恢复供货", "Supply stops released"),
    "referrals": ("转法务/机构", "Referrals"),
    "deliveries": ("发送情况", "Deliveries"),
    "errors": ("错误", "Errors"),
    "no_steps_due": ("没有到期的催收步骤", "No step due"),
    "run_status_running": ("运行中", "Running"),
    "run_status_finished": ("已完成", "Finished"),
    "run_status_failed": ("失败", "Failed"),
    "run_status_preview": ("试运行", "Preview"),
    "run_status_abandoned": ("已中止（人工确认）", "Abandoned (confirmed by a person)"),
    "started_at": ("开始时间", "Started"),
    "started_by": ("执行人", "By"),
    "collection_actions": ("催收动作", "Actions"),
    "step": ("步骤", "Step"),
    "invoices_col": ("发票", "Invoices"),
    "assignee": ("负责人", "Assignee"),
    "complete_task": ("完成", "Done"),
    "outcome": ("处理结果", "Outcome"),
    "actions_page_of": (
        "第 {page} / {pages} 页，共 {total} 条，金额 {amount}",
        "Page {page} of {pages}, {total} actions, {amount}",
    ),
    "collection_status_open": ("待办", "Open"),
    "collection_status_done": ("已完成", "Done"),
    "collection_status_sent": ("已发出", "Sent"),
    "collection_status_failed": ("失败", "Failed"),
    "collection_status_skipped": ("未发（无联系方式）", "Skipped"),
    "delivery_status_pending": ("待发送", "Pending"),
    "delivery_status_sending": ("发送中", "Sending"),
    "delivery_status_sent": ("已发送", "Sent"),
    "delivery_status_retry": ("稍后重试", "Retry"),
    "delivery_status_bounced": ("被退回", "Bounced"),
    "delivery_status_failed": ("失败", "Failed"),
    "delivery_status_uncertain": ("未能确认，请核实", "Uncertain: check"),
    "delivery_status_not_configured": ("渠道未配置，待发送", "Channel not set up, waiting"),
    "not_chased_do_not_contact": ("不得联系", "Do not contact"),
    "not_chased_dispute": ("有争议", "Disputed"),
    "not_chased_payment_plan": ("分期付款计划中", "On a payment plan"),
    "not_chased_promise": ("已承诺付款", "Promised to pay"),
    "collections": ("催收记录", "Collections"),
    "strategy_by_hand": ("手工指定", "chosen by hand"),
    "strategy_by_rule": ("按分配规则", "by the rules"),
    "no_strategy": ("没有适用的策略", "No strategy applies"),
    "assign_strategy": ("指定催收策略", "Assign a strategy"),
    "back_to_rules": ("按分配规则（取消手工指定）", "By the rules (remove the choice)"),
    "ladder_position": ("各发票在阶梯上的位置", "Where each invoice stands"),
    "last_step": ("已到步骤", "Last step"),
    "next_step": ("下一步", "Next step"),
    "next_check": ("最早", "Not before"),
    "not_started": ("尚未开始", "Not started"),
    "recipient": ("收件人", "Recipient"),
    "error": ("错误", "Error"),
    "documents": ("文件", "Documents"),
    "templates_title": ("消息与函件模板", "Message and letter templates"),
    "language": ("语言", "Language"),
    "own_wording": ("本公司版本", "Company's own"),
    "default_wording": ("默认", "Default"),
    "edit": ("编辑", "Edit"),
    "subject": ("标题", "Subject"),
    "body": ("正文", "Body"),
    "html_part": ("HTML（可留空，由正文生成）", "HTML (empty: made from the text)"),
    "signature": ("落款（公司、签署人、日期）", "Signature (company, signer, date)"),
    "reset_default": ("恢复默认", "Back to the default"),
    "preview": ("预览", "Preview"),
    "preview_customer": (
        "按客户预览（客户编码，留空为示例客户）",
        "Preview for a customer (code; empty: the sample customer)",
    ),
    "sample_customer": ("示例客户", "the sample customer"),
    "download_pdf": ("下载 PDF 函件", "Download the letter (PDF)"),
    "variables": ("可用变量", "Variables"),
    "updated": ("修改", "Changed"),
}

_CHANNEL_LABELS_EN = {
    "email": "Email", "sms": "SMS", "letter": "Letter", "phone_task": "Phone call",
    "visit_task": "Visit", "stop_supply": "Stop supply", "agency": "Collection agency",
    "lawyer_letter": "Lawyer's letter", "litigation": "Litigation / arbitration",
    "alert": "Internal alert",
}  # fmt: skip
# Collection channels (channel_email, ...): the Chinese names are the engine's own.
LABELS.update(
    {f"channel_{c.value}": (zh, _CHANNEL_LABELS_EN[c.value]) for c, zh in CHANNEL_LABELS_ZH.items()}
)


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


# The collector's desk: calls, excuses, promises and disputes on the customer page.
LABELS.update(
    {
        "desk": ("催收工作台", "Collector's desk"),
        "log_contact": ("记录联系", "Log a contact"),
        "customer_card": ("客户卡片", "Customer card"),
        "original_contact": ("最初联系人", "Original contact"),
        "no_longer_there": ("已不在职，原电话", "no longer there, old number"),
        "last_contacts": ("最近联系", "Last contacts"),
        "contact_log": ("联系记录", "Contact log"),
        "follow_ups": ("后续事项", "Follow-ups"),
        "reached": ("联系到的人", "Who was reached"),
        "reached_other": ("或填写姓名", "or type a name"),
        "contacted_at": ("联系时间", "When"),
        "excuse": ("理由", "Excuse"),
        "no_excuse": ("（无）", "(none)"),
        "excuse_facts": ("要记下的事实", "Facts to note"),
        "optional": ("可选", "optional"),
        "next_step_on": ("下一步日期", "Next step on"),
        "task_done": ("完成的任务", "Task it completes"),
        "no_task": ("（不关联任务）", "(no task)"),
        "call_assistant": ("通话助手", "Call assistant"),
        "meaning": ("通常意味着", "What it usually means"),
        "suggested_reply": ("建议回答", "Suggested reply"),
        "logged_by": ("记录人", "Logged by"),
        "facts": ("事实", "Facts"),
        "due_on": ("到期日", "Due on"),
        "result": ("结果", "Result"),
        "contact_logged": ("已记录联系", "Contact logged"),
        "promises": ("付款承诺", "Promises to pay"),
        "record_promise": ("记录付款承诺", "Record a promise"),
        "instalments_lines": (
            "分期（每行：日期,金额）",
            "Instalments (one a line: date,amount)",
        ),
        "made_by": ("承诺人", "Promised by"),
        "made_on": ("承诺日", "Made on"),
        "instalments": ("分期", "Instalments"),
        "disputes": ("争议", "Disputes"),
        "raise_dispute": ("登记争议", "Raise a dispute"),
        "amount_all": ("金额（留空为全部可争议金额）", "Amount (empty: all that may be disputed)"),
        "raised_on": ("提出日", "Raised on"),
        "window": ("争议期", "Window"),
        "within_window": ("期内", "in time"),
        "late_claim": ("逾期提出", "late"),
        "resolve": ("处理", "Resolve"),
        "resolution": ("处理方式", "Resolution"),
        "credit_note_number": ("贷项通知编号（可选）", "Credit note number (optional)"),
        "record": ("记录", "Record"),
    }
)
_CONTACT_CHANNELS_EN = {
    "phone": "Phone", "visit": "Visit", "wechat": "WeChat", "email": "Email", "sms": "SMS",
    "other": "Other",
}  # fmt: skip
_OUTCOMES_EN = {
    "reached": "Reached", "no_answer": "No answer", "refused": "Refused to pay",
    "promised": "Promised to pay", "disputed": "Disputed", "paid_claimed": "Says it has paid",
    "other": "Other",
}  # fmt: skip
_FOLLOW_UPS_EN = {
    "verify_payment": "Verify the claimed payment", "debt_acknowledgment": "Debt acknowledgment to sign",
    "credit_review": "Credit review", "limit_review": "Limit review",
    "dispute_window_check": "Dispute window check", "reissue_invoice": "Reissue the invoice copy",
    "confirm_amount": "Confirm the amount owed",
}  # fmt: skip
_DISPUTE_REASONS_EN = {
    "quality": "Quality", "quantity": "Quantity", "price": "Price", "delivery": "Delivery",
    "documents": "Documents", "other": "Other",
}  # fmt: skip
_RESOLUTIONS = {
    "credit_note": ("贷项通知（客户有理）", "Credit note (customer was right)"),
    "correction": ("更正单据", "Corrected document"),
    "rejected": ("驳回", "Rejected"),
}


def _desk_labels() -> None:
    from huikuan.collections.contact_log import CHANNEL_LABELS_ZH as CONTACT_ZH
    from huikuan.collections.contact_log import OUTCOME_LABELS_ZH
    from huikuan.collections.dispute_rules import REASON_LABELS_ZH
    from huikuan.collections.excuses import FOLLOW_UP_LABELS_ZH
    from huikuan.collections.promise_rules import STATUS_LABELS

    LABELS.update(
        {f"contact_channel_{k}": (v, _CONTACT_CHANNELS_EN[k]) for k, v in CONTACT_ZH.items()}
    )
    LABELS.update({f"outcome_{k}": (v, _OUTCOMES_EN[k]) for k, v in OUTCOME_LABELS_ZH.items()})
    LABELS.update(
        {f"follow_up_{k}": (v, _FOLLOW_UPS_EN[k]) for k, v in FOLLOW_UP_LABELS_ZH.items()}
    )
    LABELS.update(
        {
            f"dispute_reason_{k.value}": (v, _DISPUTE_REASONS_EN[k.value])
            for k, v in REASON_LABELS_ZH.items()
        }
    )
    LABELS.update({f"promise_status_{k.value}": v for k, v in STATUS_LABELS.items()})
    LABELS.update({f"resolution_{k}": v for k, v in _RESOLUTIONS.items()})
    LABELS.update(
        {"dispute_status_open": ("未决", "Open"), "dispute_status_resolved": ("已处理", "Resolved")}
    )


_desk_labels()
