"""Exports torchvision classification models to ONNX for tests/onnx_torchvision.rs
(run once on a developer machine; the test suite never needs Python):

    pip install --no-deps torchvision==0.29.2        # into the torch venv
    PYTHONPATH=<site-packages with onnx> python export_torchvision.py

For each of resnet50, mobilenet_v3_small, shufflenet_v2_x0_5 and
efficientnet_b0 (weights=None, eval mode, input 1x3x224x224, opset 17) it
writes NAME.onnx holding only the graph and the initializers' names, types
and shapes, with every tensor's bytes in NAME.onnx.data (ONNX external
data; not committed: ResNet-50's weights are ~100 MB), and NAME.json with
PyTorch's own numbers: sum(p.numel()) over parameters, the batch-norm running
buffers, the output shape, and the first 10 logits for the input
x[i] = ((i*7919) mod 1000)/500 - 1 (checked by an ignored test that needs the
data files).

Batch norm is kept as BatchNormalization nodes (TrainingMode.PRESERVE on an
eval-mode model, as export.py does; EVAL would fold it into the convs and
lose its parameters from the count).
"""
import json
import os

import onnx
import torch
import torchvision

MODELS = ["resnet50", "mobilenet_v3_small", "shufflenet_v2_x0_5", "efficientnet_b0"]

torch.manual_seed(0)
here = os.path.dirname(os.path.abspath(__file__))

for name in MODELS:
    model = getattr(torchvision.models, name)(weights=None).eval()
    # An input both sides compute alike: x[i] = ((i*7919) mod 1000)/500 - 1.
    i = torch.arange(3 * 224 * 224, dtype=torch.int64)
    x = (((i * 7919) % 1000).to(torch.float32) / 500.0 - 1.0).reshape(1, 3, 224, 224)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(here, name + ".onnx")
    torch.onnx.export(model, (x,), path, opset_version=17,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}}, dynamo=False,
                      training=torch.onnx.TrainingMode.PRESERVE)
    proto = onnx.load(path)
    data = name + ".onnx.data"
    if os.path.exists(os.path.join(here, data)):
        os.remove(os.path.join(here, data))
    onnx.save(proto, path, save_as_external_data=True, all_tensors_to_one_file=True,
              location=data, size_threshold=0)
    facts = {
        "source": "PyTorch " + torch.__version__ + ", torchvision " + torchvision.__version__
                  + ", export_torchvision.py (weights=None, seed 0)",
        "params": sum(p.numel() for p in model.parameters()),
        "bn_buffers": sum(b.numel() for n, b in model.named_buffers() if "running" in n),
        "output_shape": list(y.shape),
        "logits_head": y.flatten()[:10].tolist(),
        "ops": sorted({n.op_type for n in proto.graph.node}),
    }
    with open(os.path.join(here, name + ".json"), "w") as f:
        json.dump(facts, f, indent=1)
        f.write("\n")
    print(name, facts["params"], facts["bn_buffers"], facts["output_shape"], facts["ops"])
