"""StreamCopy: a test-only identity layer, inserted after every MVAU that feeds another layer.

It plays the plug-in a user would write: node, spec, ref, cost, hls (with its template and its
own small kernel), infer, and the one registry row ``KIND``.
"""

from flows.layers.registry import LayerKind
from tests.kinds.copy import cost, hls
from tests.kinds.copy.infer import InferStreamCopy
from tests.kinds.copy.node import StreamCopy

KIND = LayerKind(StreamCopy, InferStreamCopy, cost, {"hls": hls})
