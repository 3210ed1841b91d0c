#!/usr/bin/env python3
"""Convert torchvision's mobilenet_v2-b0353104.pth to safetensors, without torch.

Usage: convert_mobilenet.py IN.pth OUT.safetensors

The .pth uses PyTorch's legacy (pre-zip) serialization, which candle cannot
read: a sequence of pickles (magic number, protocol version, sys info, the
state dict, the list of storage keys) followed, for each storage key in that
list, by an 8-byte little-endian element count and the raw storage bytes.
Tensors in the state dict point at storages through pickle persistent ids,
so a restricted Unpickler rebuilds (storage, offset, size, stride) records and
the bytes are sliced out afterwards. Only whitelisted globals are resolved:
the file is never allowed to run code.

BatchNorm's int64 num_batches_tracked counters only matter for training and
are dropped; every float tensor is written as contiguous little-endian F32.
The output is checked against the full torchvision mobilenet_v2 key/shape
list before it is written.
"""

import collections
import io
import json
import os
import pickle
import struct
import sys

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

# storage class name -> (safetensors dtype, bytes per element)
STORAGE_TYPES = {
    "FloatStorage": ("F32", 4),
    "DoubleStorage": ("F64", 8),
    "HalfStorage": ("F16", 2),
    "LongStorage": ("I64", 8),
    "IntStorage": ("I32", 4),
}


class StorageType:
    def __init__(self, name):
        if name not in STORAGE_TYPES:
            raise ValueError(f"unsupported storage type torch.{name}")
        self.name = name
        self.dtype, self.itemsize = STORAGE_TYPES[name]


class StorageRef:
    """A storage (or a view of one) named by a persistent id; bytes come later."""

    def __init__(self, stype, key, numel, view):
        self.stype = stype
        self.key = key
        self.numel = numel
        self.view = view  # None or (offset_in_root, view_size) in elements


class TensorRef:
    def __init__(self, storage, offset, size, stride):
        self.storage = storage
        self.offset = offset
        self.size = tuple(size)
        self.stride = tuple(stride)


def rebuild_tensor_v2(storage, storage_offset, size, stride, *_rest):
    return TensorRef(storage, storage_offset, size, stride)


def rebuild_parameter(data, *_rest):
    return data


class Unpickler(pickle.Unpickler):
    def __init__(self, f):
        super().__init__(f)
        self.storages = {}

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_parameter":
            return rebuild_parameter
        if module == "torch" and name.endswith("Storage"):
            return StorageType(name)
        raise pickle.UnpicklingError(f"refusing global {module}.{name}")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        _, stype, key, _location, numel, view_metadata = pid
        if not isinstance(stype, StorageType):
            raise pickle.UnpicklingError(f"unexpected storage type {stype!r}")
        view = None
        if view_metadata is not None:
            _view_key, view_offset, view_size = view_metadata
            view = (view_offset, view_size)
        ref = StorageRef(stype, key, numel, view)
        self.storages.setdefault(key, []).append(ref)
        return ref


def read_legacy(path):
    with open(path, "rb") as fh:
        buf = io.BytesIO(fh.read())

    def load():
        return Unpickler(buf).load()

    if load() != MAGIC_NUMBER:
        raise ValueError("not a legacy pytorch file (bad magic number)")
    if load() != PROTOCOL_VERSION:
        raise ValueError("unsupported legacy protocol version")
    sys_info = load()
    if not sys_info.get("little_endian", False):
        raise ValueError("big-endian pytorch files are not supported")

    unpickler = Unpickler(buf)
    state = unpickler.load()
    keys = load()

    data = {}
    for key in keys:
        (numel,) = struct.unpack("<q", buf.read(8))
        refs = unpickler.storages.get(key)
        if not refs:
            raise ValueError(f"storage {key} is listed but never used")
        itemsize = refs[0].stype.itemsize
        raw = buf.read(numel * itemsize)
        if len(raw) != numel * itemsize:
            raise ValueError(f"storage {key} is truncated")
        if numel != refs[0].numel:
            raise ValueError(f"storage {key}: header says {numel} elements, pickle says {refs[0].numel}")
        data[key] = raw
    if buf.read(1):
        raise ValueError("trailing bytes after the last storage")
    return state, data


def tensor_bytes(t, data):
    """Contiguous bytes of a tensor, honouring offset, stride and storage views."""
    st = t.storage
    itemsize = st.stype.itemsize
    base = 0 if st.view is None else st.view[0]
    raw = data[st.key]
    numel = 1
    for d in t.size:
        numel *= d

    contiguous = []
    acc = 1
    for d in reversed(t.size):
        contiguous.append(acc)
        acc *= d
    contiguous.reverse()

    start = base + t.offset
    limit = st.numel if st.view is None else base + st.view[1]
    if all(d == 1 or s == c for d, s, c in zip(t.size, t.stride, contiguous)):
        if start + numel > limit:
            raise ValueError("tensor runs past the end of its storage")
        return raw[start * itemsize:(start + numel) * itemsize]

    out = bytearray()
    index = [0] * len(t.size)
    for _ in range(numel):
        e = start + sum(i * s for i, s in zip(index, t.stride))
        if e >= limit:
            raise ValueError("tensor runs past the end of its storage")
        out += raw[e * itemsize:(e + 1) * itemsize]
        for axis in reversed(range(len(index))):
            index[axis] += 1
            if index[axis] < t.size[axis]:
                break
            index[axis] = 0
    return bytes(out)


def expected_shapes():
    """Every float tensor of torchvision.models.mobilenet_v2() (width 1.0)."""
    shapes = {}

    def conv(name, shape):
        shapes[name + ".weight"] = shape

    def bn(name, c):
        for p in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{name}.{p}"] = [c]

    conv("features.0.0", [32, 3, 3, 3])
    bn("features.0.1", 32)
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    inp, idx = 32, 1
    for t, c, n, _s in settings:
        for _ in range(n):
            hidden = inp * t
            p = f"features.{idx}.conv"
            if t == 1:
                conv(f"{p}.0.0", [hidden, 1, 3, 3])
                bn(f"{p}.0.1", hidden)
                conv(f"{p}.1", [c, hidden, 1, 1])
                bn(f"{p}.2", c)
            else:
                conv(f"{p}.0.0", [hidden, inp, 1, 1])
                bn(f"{p}.0.1", hidden)
                conv(f"{p}.1.0", [hidden, 1, 3, 3])
                bn(f"{p}.1.1", hidden)
                conv(f"{p}.2", [c, hidden, 1, 1])
                bn(f"{p}.3", c)
            inp, idx = c, idx + 1
    conv(f"features.{idx}.0", [1280, 320, 1, 1])
    bn(f"features.{idx}.1", 1280)
    shapes["classifier.1.weight"] = [1000, 1280]
    shapes["classifier.1.bias"] = [1000]
    return shapes


def convert(in_path, out_path):
    state, data = read_legacy(in_path)
    tensors = {}
    for name, t in state.items():
        if not isinstance(t, TensorRef):
            raise ValueError(f"{name}: not a tensor")
        if name.endswith("num_batches_tracked"):
            continue
        if t.storage.stype.dtype != "F32":
            raise ValueError(f"{name}: expected float32, got {t.storage.stype.name}")
        tensors[name] = (list(t.size), tensor_bytes(t, data))

    check_shapes({name: shape for name, (shape, _) in tensors.items()})

    # no file names or dates in the header: the output hash must depend only on the weights
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name in sorted(tensors):
        shape, raw = tensors[name]
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    header_bytes = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    # pad the header with spaces so the data starts 8-byte aligned
    header_bytes += b" " * (-len(header_bytes) % 8)

    tmp = out_path + ".tmp"
    try:
        with open(tmp, "wb") as out:
            out.write(struct.pack("<Q", len(header_bytes)))
            out.write(header_bytes)
            for name in sorted(tensors):
                out.write(tensors[name][1])
        verify(tmp)
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return len(tensors)


def check_shapes(shapes):
    expected = expected_shapes()
    missing = sorted(set(expected) - set(shapes))
    extra = sorted(set(shapes) - set(expected))
    if missing or extra:
        raise ValueError(f"key mismatch: missing {missing[:5]}, unexpected {extra[:5]}")
    for name, shape in expected.items():
        if list(shapes[name]) != shape:
            raise ValueError(f"{name}: shape {shapes[name]}, expected {shape}")


def verify(path):
    """Read the written file back: header, every key and shape, data extent."""
    with open(path, "rb") as fh:
        blob = fh.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    header.pop("__metadata__", None)
    check_shapes({name: info["shape"] for name, info in header.items()})
    end = 0
    for name, info in header.items():
        begin, stop = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            count *= d
        if info["dtype"] != "F32" or stop - begin != 4 * count or begin < 0:
            raise ValueError(f"{name}: bad entry in the written header")
        end = max(end, stop)
    if 8 + n + end != len(blob):
        raise ValueError("written file length does not match its header")


def main(argv):
    if len(argv) != 3:
        print("usage: convert_mobilenet.py IN.pth OUT.safetensors", file=sys.stderr)
        return 2
    try:
        n = convert(argv[1], argv[2])
    except (ValueError, KeyError, TypeError, pickle.UnpicklingError, EOFError, struct.error, OSError) as e:
        print(f"convert_mobilenet: {argv[1]}: {e}", file=sys.stderr)
        return 1
    print(f"convert_mobilenet: wrote {n} tensors to {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
