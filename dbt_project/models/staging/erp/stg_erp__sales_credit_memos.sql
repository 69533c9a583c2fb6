{#- Business Central sales credit memos, one row per document: see macros/erp_documents.sql. -#}
{{ syncline.erp_sales_document(source('raw_erp', 'sales_credit_memos'), 'credit_memo') }}
