"""Find which TFLite ops give different results on two machines (x86 and emulated arm64).

A converted file is rewritten so that every op's output is also a graph output (a "probe"
file: same ops, same weights, same kernels), run on the same input tensor on both machines,
and the two sets of tensors are compared op by op in execution order. An op whose output
differs while all its inputs were identical is where a difference *starts*; every later
difference may only be inherited.

    python tflite_probe.py make MODEL.tflite --frames DIR --out PROBE_DIR     # host (edgedet)
    python tflite_probe.py run PROBE_DIR --out TENSORS.npz [--builtin]        # both machines
    python tflite_probe.py emulate PROBE_DIR --cpu cortex-a72 --out ARM.npz    # run, emulated
    python tflite_probe.py compare PROBE_DIR A.npz B.npz [--json OUT]         # host

``run`` needs only numpy and ai-edge-litert, so it runs in the emulated Pi's runtime venv;
``emulate`` runs it there (the rootfs and venv that ``pi_emulated.py`` built and installed).
``--builtin`` runs LiteRT's built-in kernels instead of XNNPACK (the default delegate).
Marking a tensor as an output keeps XNNPACK from fusing it away, so a probe file may round
differently from the original; the comparison is between machines, on the same probe file.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from copy import deepcopy
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
PROBE_MODEL = "probe.tflite"
ISOLATED_MODEL = "isolated.tflite"
OPS_FILE = "ops.json"
INPUTS_FILE = "inputs.npz"


# -- make (host) ------------------------------------------------------------------------
def _op_names(schema) -> dict[int, str]:
    return {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}


def _pack(graph) -> bytes:
    import flatbuffers

    builder = flatbuffers.Builder(1 << 20)
    builder.Finish(graph.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _isolate(graph, ops: list[dict], activations: set[int]) -> dict[int, int]:
    """Cut every op loose: each activation input becomes a new graph input of its own, so an
    op computes from whatever it is fed, not from the previous op. Returns new -> original
    tensor index."""
    subgraph = graph.subgraphs[0]
    fed = {}
    for op, spec in zip(subgraph.operators, ops):
        op.inputs = [int(t) for t in op.inputs]
        for slot, t in enumerate(op.inputs):
            if t >= 0 and (t in activations or t in subgraph.inputs):
                copy = deepcopy(subgraph.tensors[t])
                copy.name = copy.name + b"/fed"
                subgraph.tensors.append(copy)
                op.inputs[slot] = fed_index = len(subgraph.tensors) - 1
                fed[fed_index] = int(t)
    subgraph.inputs = list(fed)
    subgraph.outputs = sorted(activations)
    graph.signatureDefs = []
    return fed


def make_probe(model: Path, frames: Path, out: Path, max_frames: int) -> dict:
    """Write into ``out``: probe.tflite (every op's output also a graph output), isolated.tflite
    (every op fed separately, see :func:`_isolate`), ops.json (each op: kind, input and output
    tensors) and inputs.npz (the model's input tensor for each frame, as edgedet's Detector
    makes it)."""
    import cv2
    from ai_edge_litert import schema_py_generated as schema

    from edgedet import Detector

    content = model.read_bytes()
    graph = schema.ModelT.InitFromPackedBuf(content, 0)
    subgraph = graph.subgraphs[0]
    names = _op_names(schema)
    ops = []
    for index, op in enumerate(subgraph.operators):
        code = graph.operatorCodes[op.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        ops.append({"index": index, "op": names.get(builtin, str(builtin)),
                    "inputs": [int(t) for t in op.inputs if t >= 0],
                    "outputs": [int(t) for t in op.outputs if t >= 0]})
    activations = {t for op in ops for t in op["outputs"]}
    subgraph.outputs = list(subgraph.outputs) + sorted(activations - set(subgraph.outputs))
    out.mkdir(parents=True, exist_ok=True)
    (out / PROBE_MODEL).write_bytes(_pack(graph))
    isolated = schema.ModelT.InitFromPackedBuf(content, 0)
    fed = _isolate(isolated, ops, activations)
    (out / ISOLATED_MODEL).write_bytes(_pack(isolated))
    tensors = {str(t): subgraph.tensors[t].name.decode(errors="replace") for t in activations}
    (out / OPS_FILE).write_text(json.dumps({
        "model": str(model), "ops": ops, "tensor_names": tensors, "activations": sorted(activations),
        "graph_input": int(subgraph.inputs[0]), "fed": {str(k): v for k, v in fed.items()}}, indent=0))
    detector = Detector(model, num_threads=1)
    inputs = {}
    for path in sorted(frames.glob("*.png"))[:max_frames]:
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        inputs[path.stem] = detector.preprocess(frame)[0]
    np.savez(out / INPUTS_FILE, **inputs)
    return {"ops": len(ops), "frames": len(inputs), "isolated_inputs": len(fed)}


# -- run (both machines) ----------------------------------------------------------------
def _interpreter(path: Path, builtin: bool):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if builtin else OpResolverType.AUTO
    interpreter = Interpreter(model_content=path.read_bytes(), num_threads=1,
                              experimental_op_resolver_type=resolver)
    interpreter.allocate_tensors()
    return interpreter


def run_probe(probe: Path, out: Path, builtin: bool, feed: Path | None = None) -> None:
    """Every op's output for every input frame, saved as ``frame/tensor`` arrays. With
    ``feed`` (an earlier run's file), the isolated model runs instead: each op gets its
    inputs from ``feed``, so a difference from ``feed``'s machine is that op's own."""
    arrays = {}
    with np.load(probe / INPUTS_FILE) as inputs:
        if feed is None:
            interpreter = _interpreter(probe / PROBE_MODEL, builtin)
            source = interpreter.get_input_details()[0]["index"]
            for frame in inputs.files:
                interpreter.set_tensor(source, inputs[frame])
                interpreter.invoke()
                for detail in interpreter.get_output_details():
                    arrays[f"{frame}/{detail['index']}"] = interpreter.get_tensor(detail["index"]).copy()
        else:
            spec = json.loads((probe / OPS_FILE).read_text())
            interpreter = _interpreter(probe / ISOLATED_MODEL, builtin)
            with np.load(feed) as reference:
                for frame in inputs.files:
                    for detail in interpreter.get_input_details():
                        original = spec["fed"][str(detail["index"])]
                        value = (inputs[frame] if original == spec["graph_input"]
                                 else reference[f"{frame}/{original}"])
                        interpreter.set_tensor(detail["index"], value)
                    interpreter.invoke()
                    for detail in interpreter.get_output_details():
                        arrays[f"{frame}/{detail['index']}"] = interpreter.get_tensor(detail["index"]).copy()
    np.savez(out, **arrays)


def run_in_chroot(chroot, probe: Path, out: Path, builtin: bool, cpu: str,
                  feed: Path | None = None) -> float:
    """``run`` inside an open ``_pi_chroot.Chroot`` (its runtime venv); returns wall seconds."""
    from _pi_guest import ACTIVATE

    script = chroot.copy_in(Path(__file__))
    folder = chroot.copy_in(probe, "probe")
    flag = " --builtin" if builtin else ""
    if feed is not None:
        flag += " --feed " + chroot.copy_in(feed, "feed.npz")
    result = chroot.run(f"{ACTIVATE}; python {script} run {folder} --out {folder}/out.npz{flag}",
                        cpu).check("the probe run")
    chroot.host_path(f"{folder}/out.npz").replace(out)
    return result.seconds


def run_emulated(probe: Path, out: Path, builtin: bool, cpu: str, cache: Path,
                 feed: Path | None = None) -> float:
    """``run`` inside the emulated arm64 system that ``pi_emulated.py`` built and installed."""
    from _pi_chroot import Chroot

    rootfs = cache / "rootfs-bookworm-arm64"
    if not (rootfs / "root/edgedet-env/bin/python").exists():
        raise SystemExit(f"tflite_probe.py: no runtime venv in {rootfs}; run pi_emulated.py first")
    with Chroot(rootfs) as chroot:
        return run_in_chroot(chroot, probe, out, builtin, cpu, feed)


# -- compare (host) ---------------------------------------------------------------------
def _difference(a: np.ndarray, b: np.ndarray) -> float:
    """Largest difference in quantization steps (integer tensors) or in the tensor's units."""
    if a.dtype.kind in "iu":
        return float(np.abs(a.astype(np.int64) - b.astype(np.int64)).max(initial=0))
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max(initial=0.0))


def compare(probe: Path, first: Path, second: Path) -> dict:
    """Per op kind: how many ops, how many outputs differ, and how many differences *start*
    there (all inputs identical); the first starting op; the largest start per kind."""
    spec = json.loads((probe / OPS_FILE).read_text())
    activations = set(spec["activations"])
    kinds: dict[str, dict] = {}
    starts = []
    with np.load(first) as a, np.load(second) as b:
        frames = sorted({key.split("/")[0] for key in a.files})
        for frame in frames:
            differs: dict[int, float] = {}
            for op in spec["ops"]:
                kind = kinds.setdefault(op["op"], {"ops": 0, "outputs_differ": 0, "starts": 0,
                                                   "max_start_steps": 0.0, "max_steps": 0.0})
                if frame == frames[0]:
                    kind["ops"] += 1
                worst = max(_difference(a[f"{frame}/{t}"], b[f"{frame}/{t}"]) for t in op["outputs"])
                for t in op["outputs"]:
                    differs[t] = worst
                if worst == 0:
                    continue
                kind["outputs_differ"] += 1
                kind["max_steps"] = max(kind["max_steps"], worst)
                inherited = [t for t in op["inputs"] if t in activations and differs.get(t, 0) > 0]
                if not inherited:
                    kind["starts"] += 1
                    kind["max_start_steps"] = max(kind["max_start_steps"], worst)
                    starts.append({"frame": frame, "op_index": op["index"], "op": op["op"],
                                   "steps": worst,
                                   "output": spec["tensor_names"][str(op["outputs"][0])]})
    starts.sort(key=lambda s: (s["frame"], s["op_index"]))
    return {"model": spec["model"], "frames": frames, "by_op": kinds,
            "first_start": starts[0] if starts else None, "starts": len(starts),
            "start_examples": starts[:20]}


def kernel_summary(isolated: dict) -> dict:
    """The verdict of an isolated comparison (every op fed the same inputs on both machines):
    the largest difference any op made on its own, in int8 steps, and where."""
    worst_kind = max(isolated["by_op"], key=lambda k: isolated["by_op"][k]["max_steps"])
    return {"max_op_steps": isolated["by_op"][worst_kind]["max_steps"],
            "worst_op": worst_kind if isolated["by_op"][worst_kind]["max_steps"] else None,
            "ops_differing": {k: v["outputs_differ"] for k, v in isolated["by_op"].items()
                              if v["outputs_differ"]},
            "ops": sum(v["ops"] for v in isolated["by_op"].values()), "frames": len(isolated["frames"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    make = sub.add_parser("make", help="write the probe file and the input tensors (host)")
    make.add_argument("model", type=Path)
    make.add_argument("--frames", type=Path, required=True, help="a folder of .png frames")
    make.add_argument("--max-frames", type=int, default=3)
    make.add_argument("--out", type=Path, required=True)
    run = sub.add_parser("run", help="run the probe file, save every op's output")
    run.add_argument("probe", type=Path)
    run.add_argument("--out", type=Path, required=True)
    run.add_argument("--builtin", action="store_true", help="LiteRT's built-in kernels, not XNNPACK")
    run.add_argument("--feed", type=Path, help="run each op alone on this earlier run's tensors")
    emulate = sub.add_parser("emulate", help="run it in the emulated arm64 system")
    emulate.add_argument("probe", type=Path)
    emulate.add_argument("--out", type=Path, required=True)
    emulate.add_argument("--cpu", default="cortex-a72", help="qemu CPU model (cortex-a72: Pi 4, cortex-a76: Pi 5)")
    emulate.add_argument("--builtin", action="store_true")
    emulate.add_argument("--feed", type=Path)
    emulate.add_argument("--cache", type=Path, default=Path(os.environ.get(
        "EDGEDET_PI_CACHE", Path.home() / ".cache/edgedet-pi")))
    cmp = sub.add_parser("compare", help="compare two runs op by op")
    cmp.add_argument("probe", type=Path)
    cmp.add_argument("first", type=Path)
    cmp.add_argument("second", type=Path)
    cmp.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.step == "make":
        print(json.dumps(make_probe(args.model, args.frames, args.out, args.max_frames)))
    elif args.step == "run":
        run_probe(args.probe, args.out, args.builtin, args.feed)
    elif args.step == "emulate":
        seconds = run_emulated(args.probe, args.out, args.builtin, args.cpu, args.cache, args.feed)
        print(f"tflite_probe.py: {args.cpu} run took {seconds:.0f} s")
    else:
        result = compare(args.probe, args.first, args.second)
        text = json.dumps(result, indent=1)
        if args.json:
            args.json.write_text(text)
        print(json.dumps({k: v for k, v in result.items() if k != "start_examples"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
