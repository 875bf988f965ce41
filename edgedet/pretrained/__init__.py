"""Start from published weights: effdet EfficientDet checkpoints and timm EfficientNet
classifiers, turned into edgedet checkpoints (imports torch)."""
