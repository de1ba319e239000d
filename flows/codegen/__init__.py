"""HLS C++ code generation from Jinja2 templates rendered with a typed context."""
