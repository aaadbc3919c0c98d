//! The summary: every column and total derived by hand for a small
//! network, and ResNet-50 against torchinfo 1.8.0 and fvcore 0.1.5
//! (numbers printed by `tests/reference/resnet50_summary.py` with torch
//! 2.15 on a development machine; the tests never run Python).

mod common;
use common::toml;
use huashi_net::summary::OtherFlops;
use huashi_net::{zoo, Column, ElementType, Error, Shape, Summary, SummaryOptions};

/// Input (3, 8, 8); a residual block of five nodes, a pool and a head.
const SMALL: &str = r#"
    input_shape = [3, 8, 8]
    [[nodes]]
    name = "block.c1"
    op = "conv"
    out_channels = 4
    kernel = 3
    padding = 1
    [[nodes]]
    name = "block.bn"
    op = "batch_norm"
    [[nodes]]
    name = "block.r"
    op = "activation"
    function = "relu"
    [[nodes]]
    name = "block.c2"
    op = "conv"
    out_channels = 4
    kernel = 3
    padding = 1
    bias = false
    [[nodes]]
    name = "block.sum"
    op = "add"
    inputs = ["block.r", "block.c2"]
    [[nodes]]
    name = "pool"
    op = "max_pool"
    kernel = 2
    [[nodes]]
    name = "head.gap"
    op = "global_avg_pool"
    [[nodes]]
    name = "head.flat"
    op = "flatten"
    [[nodes]]
    name = "head.fc"
    op = "linear"
    out_features = 10
"#;

fn small(options: SummaryOptions) -> Summary {
    let net = toml(SMALL);
    let analysis = net.analyse_default().unwrap();
    Summary::build(&net, &analysis, options).unwrap()
}

const BATCH2_F16: SummaryOptions = SummaryOptions {
    batch: 2,
    dtype: ElementType::F16,
    depth: None,
};

#[test]
fn rows_of_a_small_network_by_hand() {
    let s = small(BATCH2_F16);
    let names: Vec<&str> = s.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names[..3], ["input", "block.c1", "block.bn"]);
    let c1 = &s.rows[1];
    // 4·3·3·3 + 4 = 112 params of 314 = 35.67 %; MACs 4·8·8 · 27 = 6912
    // of 16168 = 42.75 %; the bias adds one FLOP per output: 4·8·8 = 256.
    assert_eq!((c1.params, c1.macs), (112, 6912));
    assert_eq!(Column::ParamsPercent.cell(c1), "35.67");
    assert_eq!(Column::MacsPercent.cell(c1), "42.75");
    assert_eq!(c1.other_flops.elementwise, 256);
    assert_eq!(c1.input_shapes, [Shape::map(3, 8, 8)]);
    let cells: Vec<String> = [
        Column::Kernel,
        Column::Stride,
        Column::Dilation,
        Column::Groups,
    ]
    .iter()
    .map(|c| c.cell(c1))
    .collect();
    assert_eq!(cells, ["3", "1", "1", "1"]);
    // 256 outputs × batch 2 = 512 elements, 1024 bytes in f16.
    assert_eq!((c1.activation_elements, c1.activation_bytes), (512, 1024));
    // Batch norm at inference: 2 FLOPs per element (fvcore), 2·4 params.
    assert_eq!(
        (s.rows[2].params, s.rows[2].other_flops.normalisation),
        (8, 512)
    );
    let sum = s.rows.iter().find(|r| r.name == "block.sum").unwrap();
    assert_eq!(sum.input_shapes, [Shape::map(4, 8, 8); 2]);
    assert_eq!(sum.other_flops.elementwise, 256);
    assert_eq!(Column::Kernel.cell(sum), "-");
    // Max pool 2×2: 3 comparisons per output, 4·4·4 outputs.
    let pool = s.rows.iter().find(|r| r.name == "pool").unwrap();
    assert_eq!(pool.other_flops.pooling, 192);
    assert_eq!(Column::Kernel.cell(pool), "2");
    // Global average pool: the 4·4·4 input elements (fvcore).
    let gap = s.rows.iter().find(|r| r.name == "head.gap").unwrap();
    assert_eq!(gap.other_flops.pooling, 64);
    let fc = s.rows.last().unwrap();
    assert_eq!(
        (fc.params, fc.macs, fc.other_flops.elementwise),
        (50, 40, 10)
    );
}

#[test]
fn totals_of_a_small_network_by_hand() {
    let t = small(BATCH2_F16).totals;
    assert_eq!(
        (t.params, t.moving_stats, t.macs, t.flops),
        (314, 8, 16168, 32336)
    );
    // Element-wise: bias 256 + ReLU 256 + add 256 + fc bias 10.
    let other = OtherFlops {
        elementwise: 778,
        pooling: 256,
        normalisation: 512,
    };
    assert_eq!(t.other_flops, other);
    // 2 bytes (f16) · 314 params; 2 bytes · batch 2 · 192 input elements.
    assert_eq!((t.params_bytes, t.input_bytes), (628, 768));
    // Outputs: 5 × 256 + 64 + 4 + 4 + 10 = 1362 elements, × 2 × 2 bytes.
    assert_eq!(t.forward_activation_bytes, 5448);
    // Kept: c1's input 192, bn's input 256, ReLU's output 256 (also c2's
    // input, counted once), pool's input 256, fc's input 4: 964 × 4 bytes.
    assert_eq!(t.backward_kept_bytes, 3856);
    assert_eq!(t.training_bytes, 2 * 628 + 3856);
    // torchinfo: 2 × outputs of the nodes with parameters (c1, bn, c2, fc).
    assert_eq!(t.torchinfo_pass_bytes, 2 * (3 * 256 + 10) * 4);
}

#[test]
fn depth_folds_name_prefixes_and_totals_by_op() {
    let s = small(SummaryOptions {
        depth: Some(1),
        ..SummaryOptions::default()
    });
    let names: Vec<&str> = s.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["input", "block", "pool", "head"]);
    let block = &s.rows[1];
    assert_eq!((block.op.as_str(), block.nodes), ("block", 5));
    assert_eq!((block.params, block.macs), (264, 16128));
    assert_eq!(block.input_shapes, [Shape::map(3, 8, 8)]);
    assert_eq!(block.output, Shape::map(4, 8, 8));
    assert_eq!(block.geometry, None);
    assert_eq!(s.rows[3].output, Shape::Vector { features: 10 });
    // Totals do not depend on the depth.
    assert_eq!(s.totals, small(SummaryOptions::default()).totals);
    let conv = s.by_operator["conv"];
    assert_eq!(
        (conv.count, conv.params, conv.macs, conv.other_flops),
        (2, 256, 16128, 256)
    );
    assert_eq!(s.by_operator["add"].other_flops, 256);
    assert!(!s.by_operator.contains_key("input"));
}

#[test]
fn hostile_options_are_typed_errors() {
    let net = toml(SMALL);
    let analysis = net.analyse_default().unwrap();
    for options in [
        SummaryOptions {
            batch: 0,
            ..SummaryOptions::default()
        },
        SummaryOptions {
            depth: Some(0),
            ..SummaryOptions::default()
        },
    ] {
        let err = Summary::build(&net, &analysis, options).unwrap_err();
        assert!(matches!(err, Error::InvalidField { .. }), "{err}");
    }
    let huge = SummaryOptions {
        batch: usize::MAX,
        ..SummaryOptions::default()
    };
    let err = Summary::build(&net, &analysis, huge).unwrap_err();
    assert!(matches!(err, Error::Overflow { .. }), "{err}");
    // An analysis of another network.
    let other = toml(&SMALL.replace("head.fc", "head.out"));
    let err = Summary::build(&other, &analysis, SummaryOptions::default()).unwrap_err();
    assert!(matches!(err, Error::UnknownNode { .. }), "{err}");
}

/// torchinfo 1.8.0 (`summary(model, input_data=zeros(1,3,224,224), depth=2)`)
/// and fvcore 0.1.5 (`FlopCountAnalysis(...).by_operator()`, `.by_module()`)
/// on torchvision's ResNet-50, batch 1, f32.
#[test]
fn resnet50_matches_torchinfo_and_fvcore() {
    let net = zoo::by_name("resnet50").unwrap();
    let analysis = net.analyse_default().unwrap();
    let options = SummaryOptions {
        depth: Some(2),
        ..SummaryOptions::default()
    };
    let s = Summary::build(&net, &analysis, options).unwrap();
    let t = &s.totals;
    // torchinfo: Total params 25,557,032; param bytes 102,228,128; input
    // 602,176 bytes, which is `sys.getsizeof` of the tensor: its 3·224·224·4
    // = 602,112 bytes of data plus a 64-byte Python object header (both
    // "Input size (MB): 0.60"); "Forward/backward pass size" 177,831,744.
    assert_eq!(
        (t.params, t.params_bytes, t.input_bytes),
        (25_557_032, 102_228_128, 602_176 - 64)
    );
    assert_eq!(t.torchinfo_pass_bytes, 177_831_744);
    // torchinfo's depth-2 rows: Bottleneck 2-1 (layer1.0) 75,008 params,
    // 231,212,288 mult-adds; 2-4 (layer2.0) 379,392 / 372,509,184; 2-14
    // (layer4.0) 6,039,552 / 372,516,864. torchinfo adds each batch norm's
    // affine parameters to its mult-adds (layer1.0: 128+128+512+512 = 1,280;
    // layer2.0: 2,560; layer4.0: 10,240); huashi's MACs do not.
    for (name, params, torchinfo_macs, bn_params) in [
        ("layer1.0", 75_008, 231_212_288, 1_280),
        ("layer2.0", 379_392, 372_509_184, 2_560),
        ("layer4.0", 6_039_552, 372_516_864, 10_240),
    ] {
        let row = s.rows.iter().find(|r| r.name == name).unwrap();
        assert_eq!(
            (row.params, row.macs),
            (params, torchinfo_macs - bn_params),
            "{name}"
        );
    }
    // fvcore by_operator: conv 4,087,136,256 (huashi splits 1×1 convs out as
    // `pointwise`), linear 2,048,000, batch_norm 22,227,968,
    // adaptive_avg_pool2d 100,352.
    let op = |name: &str| s.by_operator[name];
    assert_eq!(op("conv").macs + op("pointwise").macs, 4_087_136_256);
    assert_eq!(op("linear").macs, 2_048_000);
    assert_eq!(op("batch_norm").other_flops, 22_227_968);
    assert_eq!(op("global_avg_pool").other_flops, 100_352);
    assert_eq!(t.other_flops.normalisation, 22_227_968);
    // fvcore by_module: conv1 118,013,952; bn1 1,605,632.
    let full = Summary::build(&net, &analysis, SummaryOptions::default()).unwrap();
    let row = |name: &str| full.rows.iter().find(|r| r.name == name).unwrap().clone();
    assert_eq!(row("conv1").macs, 118_013_952);
    assert_eq!(row("bn1").other_flops.normalisation, 1_605_632);
    assert_eq!(row("layer1.0.conv2").macs, 115_605_504);
    assert_eq!(row("layer2.0.downsample.0").macs, 102_760_448);
}
