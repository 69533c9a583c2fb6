{#- Lines of the Business Central sales credit memos, one row per line: see macros/erp_documents.sql. -#}
{{ syncline.erp_sales_document_lines(source('raw_erp', 'sales_credit_memo_lines'), 'credit_memo') }}
