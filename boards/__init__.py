"""Board definitions, vendor-tool templates and the host driver."""
