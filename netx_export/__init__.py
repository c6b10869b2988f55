"""netx_export."""
