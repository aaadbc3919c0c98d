"""Exports the ONNX fixtures of tests/onnx_fixtures.rs with PyTorch (run once
on a developer machine; the test suite never needs Python):

    PYTHONPATH=<site-packages with onnx> python export.py   # writes tiny_mobilenet_v2.onnx and tiny_mobilenet_v2.json

A width-reduced MobileNetV2-style network (torchvision's block structure:
inverted residuals with ReLU6, depthwise 3x3, a residual Add, an SE-style
gate with Hardsigmoid, global average pooling, flatten, dropout, linear) with
random weights (seed 0). The JSON records PyTorch's own numbers the test
checks: sum(p.numel()) over parameters, the batch-norm buffers, and the
output shape.
"""
import json
import torch
from torch import nn

torch.manual_seed(0)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        mid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.conv = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
            nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
            nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout),
        )

    def forward(self, x):
        y = self.conv(x)
        return x + y if self.use_res else y


class Gate(nn.Module):
    def __init__(self, c, r):
        super().__init__()
        self.fc1 = nn.Conv2d(c, r, 1)
        self.fc2 = nn.Conv2d(r, c, 1)

    def forward(self, x):
        s = nn.functional.adaptive_avg_pool2d(x, 1)
        s = nn.functional.hardsigmoid(self.fc2(torch.relu(self.fc1(s))))
        return x * s


class TinyMobileNetV2(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6()),
            InvertedResidual(8, 8, 1, 1),
            InvertedResidual(8, 12, 2, 4),
            InvertedResidual(12, 12, 1, 4),
            Gate(12, 4),
            nn.Sequential(nn.Conv2d(12, 32, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6()),
            nn.MaxPool2d(3, 2, ceil_mode=True),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, classes))

    def forward(self, x):
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, 1)
        x = torch.flatten(x, 1)
        return self.classifier(x)


model = TinyMobileNetV2().eval()
for m in model.modules():
    if isinstance(m, nn.BatchNorm2d):
        m.running_mean.uniform_(-0.5, 0.5)
        m.running_var.uniform_(0.5, 1.5)
x = torch.randn(1, 3, 32, 32)
y = model(x)
torch.onnx.export(model, (x,), "tiny_mobilenet_v2.onnx", opset_version=13,
                  input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "N"}}, dynamo=False,
                  training=torch.onnx.TrainingMode.PRESERVE)  # keep BN nodes (EVAL folds them into the convs)
facts = {
    "source": "PyTorch " + torch.__version__ + ", export.py (seed 0)",
    "params": sum(p.numel() for p in model.parameters()),
    "bn_buffers": sum(b.numel() for n, b in model.named_buffers() if "running" in n),
    "output_shape": list(y.shape),
    "input": x.flatten().tolist(),
    "output": y.flatten().tolist(),
}
with open("tiny_mobilenet_v2.json", "w") as f:
    json.dump(facts, f)
print(facts["params"], facts["bn_buffers"], facts["output_shape"])
