{#- Lines of the Business Central sales invoices, one row per line: see macros/erp_documents.sql. -#}
{{ syncline.erp_sales_document_lines(source('raw_erp', 'sales_invoice_lines'), 'invoice') }}
