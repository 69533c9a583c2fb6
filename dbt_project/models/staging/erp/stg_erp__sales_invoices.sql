{#- Business Central sales invoices, one row per document: see macros/erp_documents.sql. -#}
{{ syncline.erp_sales_document(source('raw_erp', 'sales_invoices'), 'invoice') }}
