"""Run MediaPipe Tasks ObjectDetector on images; print detections and metadata as JSON.

Runs under a Python that has ``mediapipe`` (its own venv: mediapipe pulls
opencv-contrib-python, which clashes with edgedet's opencv-python-headless), so it imports
nothing from edgedet. Used by tests/test_tflite_nms.py and benchmarks/tflite_nms.py:

    python mediapipe_detect.py MODEL.tflite SCORE_THRESHOLD MAX_RESULTS IMAGE...
"""
import json
import sys


def detections(model: str, score_threshold: float, max_results: int, images: list) -> list:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions
    from mediapipe.tasks.python import vision

    options = vision.ObjectDetectorOptions(
        base_options=BaseOptions(model_asset_path=model),
        running_mode=vision.RunningMode.IMAGE,
        score_threshold=score_threshold, max_results=max_results)
    results = []
    with vision.ObjectDetector.create_from_options(options) as detector:
        for path in images:
            found = []
            for d in detector.detect(mp.Image.create_from_file(path)).detections:
                box, category = d.bounding_box, d.categories[0]
                found.append({
                    "box": [box.origin_x, box.origin_y, box.origin_x + box.width,
                            box.origin_y + box.height],
                    "class_id": category.index, "label": category.category_name,
                    "score": category.score})
            results.append(found)
    return results


def metadata(model: str) -> dict:
    """The file's object-detector metadata as read by MediaPipe's generated schema code
    (MediaPipe's MetadataDisplayer fails to import from the 1.2 wheels), and its packed files."""
    import io
    import zipfile

    from mediapipe.tasks.metadata import metadata_schema_py_generated as meta_fb
    from mediapipe.tasks.metadata import schema_py_generated as tflite_fb

    content = open(model, "rb").read()
    tflite = tflite_fb.ModelT.InitFromPackedBuf(bytearray(content), 0)
    entry = next(m for m in tflite.metadata if m.name.decode() == "TFLITE_METADATA")
    buf = bytes(tflite.buffers[entry.buffer].data)
    meta = meta_fb.ModelMetadataT.InitFromPackedBuf(bytearray(buf), 0)
    graph = meta.subgraphMetadata[0]

    def tensor(t) -> dict:
        content_ = t.content
        props = content_.contentProperties if content_ else None
        out = {"name": t.name.decode(),
               "content_type": content_.contentPropertiesType if content_ else None,
               "range": [content_.range.min, content_.range.max] if content_ and content_.range else None,
               "files": [(f.name.decode(), f.type) for f in (t.associatedFiles or [])],
               "normalization": [([float(v) for v in u.options.mean], [float(v) for v in u.options.std])
                                 for u in (t.processUnits or []) if u.optionsType == 1]}
        if isinstance(props, meta_fb.BoundingBoxPropertiesT):
            out["box"] = {"index": [int(i) for i in props.index], "type": props.type,
                          "coordinate_type": props.coordinateType}
        if isinstance(props, meta_fb.ImagePropertiesT):
            out["color_space"] = props.colorSpace
        return out

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        files = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    return {"identifier_ok": meta_fb.ModelMetadata.ModelMetadataBufferHasIdentifier(buf, 0),
            "name": meta.name.decode(), "min_parser_version": meta.minParserVersion.decode(),
            "inputs": [tensor(t) for t in graph.inputTensorMetadata],
            "outputs": [tensor(t) for t in graph.outputTensorMetadata], "files": files}


def main(argv: list) -> None:
    model, score, max_results, images = argv[0], float(argv[1]), int(argv[2]), argv[3:]
    import mediapipe

    print(json.dumps({"mediapipe": mediapipe.__version__, "metadata": metadata(model),
                      "detections": detections(model, score, max_results, images)}))


if __name__ == "__main__":
    main(sys.argv[1:])
