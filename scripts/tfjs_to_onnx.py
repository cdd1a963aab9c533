#!/usr/bin/env python3
"""Convert a TensorFlow.js graph model (model.json + weight shards) to ONNX.

Written for the HSE `faceres` model of npm @vladmandic/human (MobileNet: Conv2D,
DepthwiseConv2dNative, Add/Mul per-channel batch-norm, Relu + clip, Mean, _FusedMatMul,
Sigmoid, Softmax) but generic over those ops. Needs only Debian's python3-onnx and
python3-numpy.

    python3 scripts/tfjs_to_onnx.py .deps/tfjs/faceres.json models/faceres.onnx

Design: TFJS graphs are NHWC. The converter transposes the input once to NCHW, keeps every
4-D tensor NCHW (so ONNX Runtime needs no per-layer transposes), reshapes per-channel
constants to [C, 1, 1], and maps NHWC reduction axes to NCHW. float16-quantised weights
are dequantised to float32. The output is deterministic (same bytes for the same input), so
its sha256 is pinned in models/manifest.json.
"""
import base64
import json
import os
import sys

try:
    import numpy as np
    import onnx
except ImportError:
    # A python3 earlier on PATH (pyenv, venv) without Debian's python3-onnx/python3-numpy:
    # rerun with the system interpreter that has them.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise
from onnx import TensorProto, helper, numpy_helper

NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


def load_weights(model_json, path):
    """Returns {name: np.ndarray} from the weightsManifest shards (dequantised)."""
    weights = {}
    base = os.path.dirname(path)
    for group in model_json["weightsManifest"]:
        data = b"".join(open(os.path.join(base, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            shape = [int(d) for d in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if q and q.get("dtype") == "float16":
                arr = np.frombuffer(data, dtype="<f2", count=count, offset=off).astype(np.float32)
                off += 2 * count
            elif q and q.get("dtype") in ("uint8", "uint16"):
                dt = np.uint8 if q["dtype"] == "uint8" else "<u2"
                raw = np.frombuffer(data, dtype=dt, count=count, offset=off).astype(np.float32)
                off += raw.itemsize * count if q["dtype"] == "uint8" else 2 * count
                arr = raw * np.float32(q["scale"]) + np.float32(q["min"])
            elif w["dtype"] == "float32":
                arr = np.frombuffer(data, dtype="<f4", count=count, offset=off).copy()
                off += 4 * count
            elif w["dtype"] == "int32":
                arr = np.frombuffer(data, dtype="<i4", count=count, offset=off).copy()
                off += 4 * count
            else:
                raise SystemExit(f"unsupported weight dtype {w['dtype']} / quantization {q}")
            weights[w["name"]] = arr.reshape(shape)
        if off != len(data):
            raise SystemExit(f"weights: consumed {off} of {len(data)} bytes")
    return weights


def attr_list_i(node, key):
    return [int(v) for v in node.get("attr", {}).get(key, {}).get("list", {}).get("i", [])]


def attr_str(node, key):
    s = node.get("attr", {}).get(key, {}).get("s")
    return base64.b64decode(s).decode() if s is not None else None


def attr_bool(node, key, default=False):
    return bool(node.get("attr", {}).get(key, {}).get("b", default))


def attr_strs(node, key):
    return [base64.b64decode(s).decode() for s in node.get("attr", {}).get(key, {}).get("list", {}).get("s", [])]


def convert(json_path, out_path):
    model_json = json.load(open(json_path))
    weights = load_weights(model_json, json_path)
    nodes = model_json["modelTopology"]["node"]
    signature = model_json.get("signature", {})

    onnx_nodes, inits, inputs = [], [], []
    rank = {}        # activation name -> rank (4 = NCHW image tensor)
    consts = {}      # const node name -> np.ndarray
    counter = [0]

    def fresh(prefix):
        counter[0] += 1
        return f"{prefix}__{counter[0]}"

    def add_init(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def src(name):
        return name.split(":")[0].lstrip("^")

    for n in nodes:
        op, name = n["op"], n["name"]
        ins = [src(i) for i in n.get("input", []) if not i.startswith("^")]
        if op == "Const":
            if name not in weights:
                raise SystemExit(f"const {name} has no weights")
            consts[name] = weights[name]
            continue
        if op == "Placeholder":
            dims = [int(d["size"]) for d in n["attr"]["shape"]["shape"]["dim"]]
            dims = [1 if d < 0 else d for d in dims]
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
            if len(dims) == 4:
                t = name + "_nchw"
                onnx_nodes.append(helper.make_node("Transpose", [name], [t], perm=[0, 3, 1, 2]))
                rank[name] = 4
                alias[name] = t
            else:
                rank[name] = len(dims)
            continue
        if op in ("Conv2D", "DepthwiseConv2dNative"):
            x, k = ins
            kernel = consts[k]
            strides = attr_list_i(n, "strides")[1:3]
            dil = attr_list_i(n, "dilations")[1:3] or [1, 1]
            if attr_str(n, "data_format") not in (None, "NHWC"):
                raise SystemExit(f"{name}: only NHWC graphs are supported")
            pad = attr_str(n, "padding")
            kh, kw = kernel.shape[0], kernel.shape[1]
            if op == "Conv2D":
                w = kernel.transpose(3, 2, 0, 1)
                group = 1
            else:
                cin, mult = kernel.shape[2], kernel.shape[3]
                w = kernel.transpose(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw)
                group = cin
            attrs = dict(kernel_shape=[kh, kw], strides=strides, dilations=dil, group=group)
            if pad == "SAME":
                attrs["auto_pad"] = "SAME_UPPER"
            elif pad == "VALID":
                attrs["auto_pad"] = "VALID"
            else:
                raise SystemExit(f"{name}: padding {pad} unsupported")
            wname = add_init(k + "_oihw", w.astype(np.float32))
            onnx_nodes.append(helper.make_node("Conv", [alias.get(x, x), wname], [name], name=name, **attrs))
            rank[name] = 4
            continue
        if op in ("Add", "AddV2", "Mul", "Sub", "Minimum", "Maximum", "BiasAdd"):
            onnx_op = {"Add": "Add", "AddV2": "Add", "BiasAdd": "Add", "Mul": "Mul", "Sub": "Sub",
                       "Minimum": "Min", "Maximum": "Max"}[op]
            act = [i for i in ins if i not in consts]
            r = max((rank.get(i, 0) for i in act), default=0)
            names = []
            for i in ins:
                if i in consts:
                    c = consts[i].astype(np.float32)
                    if r == 4 and c.ndim == 1 and c.size > 1:
                        c = c.reshape(-1, 1, 1)  # per-channel in NCHW
                    elif r == 4 and c.ndim == 4:
                        c = c.transpose(0, 3, 1, 2)
                    names.append(add_init(fresh(i), c))
                else:
                    names.append(alias.get(i, i))
            onnx_nodes.append(helper.make_node(onnx_op, names, [name], name=name))
            rank[name] = r
            continue
        if op in ("Relu", "Relu6", "Sigmoid", "Tanh", "Identity", "Softmax"):
            x = alias.get(ins[0], ins[0])
            if op == "Relu6":
                lo = add_init(fresh("zero"), np.array(0, np.float32))
                hi = add_init(fresh("six"), np.array(6, np.float32))
                onnx_nodes.append(helper.make_node("Clip", [x, lo, hi], [name], name=name))
            elif op == "Softmax":
                if rank.get(ins[0], 2) == 4:
                    raise SystemExit(f"{name}: 4-D softmax unsupported")
                onnx_nodes.append(helper.make_node("Softmax", [x], [name], name=name, axis=-1))
            else:
                onnx_nodes.append(helper.make_node(op, [x], [name], name=name))
            rank[name] = rank.get(ins[0], 0)
            continue
        if op == "Mean":
            x, axes_name = ins
            axes = [int(a) for a in np.atleast_1d(consts[axes_name])]
            if rank.get(x) == 4:
                axes = [NHWC_TO_NCHW_AXIS[a % 4] for a in axes]
            keep = attr_bool(n, "keep_dims")
            if keep and rank.get(x) == 4:
                raise SystemExit(f"{name}: keep_dims on 4-D tensors unsupported")
            onnx_nodes.append(helper.make_node("ReduceMean", [alias.get(x, x)], [name], name=name,
                                               axes=sorted(axes), keepdims=int(keep)))
            rank[name] = rank.get(x, 0) - (0 if keep else len(axes))
            continue
        if op in ("_FusedMatMul", "MatMul"):
            a, b = ins[0], ins[1]
            if attr_bool(n, "transpose_a"):
                raise SystemExit(f"{name}: transpose_a unsupported")
            bw = consts[b]
            if attr_bool(n, "transpose_b"):
                bw = bw.T
            cur = fresh(name + "_matmul")
            onnx_nodes.append(helper.make_node("MatMul", [alias.get(a, a), add_init(fresh(b), bw.astype(np.float32))],
                                               [cur]))
            fused = attr_strs(n, "fused_ops") if op == "_FusedMatMul" else []
            extra = ins[2:]
            for i, f in enumerate(fused):
                last = i == len(fused) - 1
                out = name if last else fresh(name + "_" + f)
                if f == "BiasAdd":
                    onnx_nodes.append(helper.make_node("Add", [cur, add_init(fresh(extra[0]), consts[extra[0]].astype(np.float32))], [out]))
                elif f == "Relu":
                    onnx_nodes.append(helper.make_node("Relu", [cur], [out]))
                else:
                    raise SystemExit(f"{name}: fused op {f} unsupported")
                cur = out
            if cur != name:
                onnx_nodes.append(helper.make_node("Identity", [cur], [name]))
            rank[name] = 2
            continue
        raise SystemExit(f"unsupported op {op} ({name})")

    outputs = []
    for key, spec in signature.get("outputs", {}).items():
        oname = src(spec.get("name", key))
        dims = [max(1, int(d["size"])) for d in spec.get("tensorShape", {}).get("dim", [])]
        outputs.append(helper.make_tensor_value_info(oname, TensorProto.FLOAT, dims))
    # Stable output order: as listed in the signature.
    graph = helper.make_graph(onnx_nodes, "tfjs_converted", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="faceport-tfjs_to_onnx", producer_version="1")
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, out_path)


alias = {}

if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: tfjs_to_onnx.py MODEL.json OUT.onnx")
    convert(sys.argv[1], sys.argv[2])
