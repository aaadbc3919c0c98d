"""Reference numbers for crates/huashi-net/tests/summary.rs: torchinfo 1.8.0
and fvcore 0.1.5 on torchvision's ResNet-50 (the class below is torchvision's
`resnet50()` definition, written out because torchvision is not installed
beside torch 2.15 here). Run: ~/.cache/huashi-torch/bin/python resnet50_summary.py
The tests never need Python; the printed numbers are written into them."""
import torch
import torch.nn as nn
from fvcore.nn import FlopCountAnalysis
from torchinfo import summary


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, width * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(width * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNet50(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, (width, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]):
            layers = []
            for b in range(blocks):
                s = stride if b == 0 else 1
                ds = None
                if s != 1 or cin != width * 4:
                    ds = nn.Sequential(nn.Conv2d(cin, width * 4, 1, s, bias=False), nn.BatchNorm2d(width * 4))
                layers.append(Bottleneck(cin, width, s, ds))
                cin = width * 4
            setattr(self, f"layer{i + 1}", nn.Sequential(*layers))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, 1000)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


model = ResNet50().eval()
x = torch.zeros(1, 3, 224, 224)
stats = summary(model, input_data=x, depth=2, verbose=0,
                col_names=("input_size", "output_size", "num_params", "mult_adds"))
print(stats)
print("torchinfo total_params", stats.total_params, "total_mult_adds", stats.total_mult_adds,
      "param_bytes", stats.total_param_bytes, "output_bytes", stats.total_output_bytes,
      "input_bytes", stats.total_input)
for layer in stats.summary_list:
    if layer.depth == 2 or layer.var_name in ("conv1", "fc"):
        print("torchinfo layer", layer.var_name, layer.depth, layer.num_params, layer.macs)
flops = FlopCountAnalysis(model, x)
flops.unsupported_ops_warnings(False)
print("fvcore total", flops.total())
print("fvcore by_operator", dict(flops.by_operator()))
by_module = flops.by_module()
for name in ["conv1", "bn1", "layer1.0.conv2", "layer1.0.bn1", "layer2.0.downsample.0", "avgpool", "fc", "layer1", "layer4"]:
    print("fvcore by_module", name, by_module[name])
