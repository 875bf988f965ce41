"""What a .tflite file says about itself: named metadata buffers (read from the flatbuffer
without any TFLite package) and the tensor names of its signature (read from an interpreter).

TFLite models carry ``metadata: [Metadata{name, buffer}]`` entries that point into the
model's ``buffers``; interpreters ignore them. Only the few fields needed are decoded here
(schema.fbs field order: Model.buffers = 4, Model.metadata = 6; Metadata.name = 0,
Metadata.buffer = 1; Buffer.data = 0, Buffer.offset = 1, Buffer.size = 2), so that the
``tflite_runtime`` fallback, which ships no schema, can read edgedet metadata too.
"""
from __future__ import annotations

import struct

_MODEL_BUFFERS, _MODEL_METADATA = 4, 6
_META_NAME, _META_BUFFER = 0, 1
_BUF_DATA, _BUF_OFFSET, _BUF_SIZE = 0, 1, 2


class _Table:
    """A flatbuffer table at absolute position ``pos`` of ``buf``."""

    def __init__(self, buf: bytes, pos: int):
        self.buf, self.pos = buf, pos
        self.vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        self.vtable_size = struct.unpack_from("<H", buf, self.vtable)[0]

    def _field(self, index: int) -> int:
        entry = 4 + 2 * index
        if entry >= self.vtable_size:
            return 0
        offset = struct.unpack_from("<H", self.buf, self.vtable + entry)[0]
        return self.pos + offset if offset else 0

    def scalar(self, index: int, fmt: str, default: int = 0) -> int:
        at = self._field(index)
        return struct.unpack_from(fmt, self.buf, at)[0] if at else default

    def vector(self, index: int) -> tuple[int, int]:
        """(position of the first element, length); (0, 0) when absent."""
        at = self._field(index)
        if not at:
            return 0, 0
        start = at + struct.unpack_from("<I", self.buf, at)[0]
        return start + 4, struct.unpack_from("<I", self.buf, start)[0]

    def table_at(self, element_pos: int) -> "_Table":
        return _Table(self.buf, element_pos + struct.unpack_from("<I", self.buf, element_pos)[0])

    def tables(self, index: int) -> list["_Table"]:
        start, length = self.vector(index)
        return [self.table_at(start + 4 * i) for i in range(length)]

    def bytes_(self, index: int) -> bytes:
        start, length = self.vector(index)
        return bytes(self.buf[start:start + length])


def read_tflite_metadata(buf: bytes) -> dict[str, bytes]:
    """Map metadata name -> buffer bytes for a serialized TFLite model ``buf``.

    Raises ValueError if ``buf`` is not a TFLite flatbuffer.
    """
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ValueError("not a TFLite flatbuffer (no TFL3 identifier)")
    try:
        model = _Table(buf, struct.unpack_from("<I", buf, 0)[0])
        buffers = model.tables(_MODEL_BUFFERS)
        found = {}
        for entry in model.tables(_MODEL_METADATA):
            name = entry.bytes_(_META_NAME).decode("utf-8", "replace")
            buffer = buffers[entry.scalar(_META_BUFFER, "<I")]
            offset = buffer.scalar(_BUF_OFFSET, "<Q")
            if offset > 1:  # large-model layout: data stored after the flatbuffer
                size = buffer.scalar(_BUF_SIZE, "<Q")
                found[name] = bytes(buf[offset:offset + size])
            else:
                found[name] = buffer.bytes_(_BUF_DATA)
        return found
    except (struct.error, IndexError) as exc:
        raise ValueError(f"corrupt TFLite flatbuffer ({exc})") from exc


def signature_names(interpreter) -> tuple[str, str, list[str]]:
    """(signature key, input name, output names in model order) of a single-signature model.

    litert-torch names signature outputs output_0, output_1, ... in the model's order.
    """
    signatures = interpreter.get_signature_list()
    key = next(iter(signatures))
    outputs = sorted(signatures[key]["outputs"], key=lambda n: int(n.rsplit("_", 1)[-1]))
    return key, signatures[key]["inputs"][0], outputs
