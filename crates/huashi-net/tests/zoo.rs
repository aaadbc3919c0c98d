//! The model zoo: parameter totals against the published totals of each
//! reference implementation, analyses at the native input sizes, and
//! receptive fields derived by hand or taken from published tables.

use huashi_net::zoo::{self, FewShotVariant};
use huashi_net::{Analysis, Error, Network};
use std::time::{Duration, Instant};

fn analyse(name: &str) -> Analysis {
    let net = zoo::by_name(name).unwrap_or_else(|e| panic!("{e}"));
    net.analyse_default()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `(size, stride, padding)` of the height axis; both axes must agree.
fn rf(a: &Analysis, node: &str) -> (usize, usize, usize) {
    let f = a.receptive_field(node).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f[0], f[1], "{node}: square nets give equal axes");
    (f[0].size, f[0].stride, f[0].padding)
}

/// `(trainable params, BN moving statistics)`.
fn totals(name: &str) -> (u64, u64) {
    let t = analyse(name).totals;
    (t.params, t.moving_stats)
}

/// The sinusoid MLP of Finn et al. (2017), §5.1: 1-40-40-1, so
/// `(1·40 + 40) + (40·40 + 40) + (40·1 + 1) = 80 + 1640 + 41 = 1761`
/// parameters, `40 + 1600 + 40 = 1680` MACs.
#[test]
fn the_sinusoid_mlp_counts() {
    let a = zoo::by_name("maml_sinusoid")
        .unwrap()
        .analyse_default()
        .unwrap();
    assert_eq!((a.totals.params, a.totals.macs), (1761, 1680));
}

#[test]
fn every_model_analyses_at_its_native_size_quickly() {
    for name in zoo::names() {
        let net = zoo::by_name(name).unwrap();
        assert_eq!(net.name.as_deref(), Some(name));
        let start = Instant::now();
        let a = net
            .analyse_default()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // Generous even for a debug build; it takes well under a millisecond.
        assert!(start.elapsed() < Duration::from_millis(500), "{name}");
        let logits = match name {
            "maml_sinusoid" => 1,
            _ if name.starts_with("maml") => 5,
            _ => 1000,
        };
        assert_eq!(
            a.output().output.to_string(),
            format!("({logits})"),
            "{name}"
        );
    }
}

#[test]
fn descriptions_round_trip_through_json() {
    for name in zoo::names() {
        let net = zoo::by_name(name).unwrap();
        assert_eq!(Network::from_json(&net.to_json()).unwrap(), net, "{name}");
    }
}

#[test]
fn unknown_names_are_errors_listing_the_zoo() {
    let err = zoo::by_name("resnet51").unwrap_err();
    assert!(matches!(err, Error::UnknownModel { ref name, .. } if name == "resnet51"));
    assert!(err.to_string().contains("resnet50"), "{err}");
}

#[test]
fn maml_cnn_totals_counted_by_hand() {
    // Finn et al. 2017 as learn2learn's OmniglotCNN and huashi-meta's ConvNet:
    // BN with γ and β, convs without bias: 1·64·9 = 576, then 3 × 64·64·9 = 36 864.
    let convs = 576 + 3 * 36_864;
    // Omniglot: mean over the 2×2 map, Linear(64, 5) = 325; 112 005 in all
    // (the total of the authors' TF code too: it has conv biases but no γ).
    assert_eq!(totals("maml_omniglot"), (convs + 4 * 128 + 325, 4 * 128));
    assert_eq!(totals("maml_omniglot").0, 112_005);
    // Mini-ImageNet 84×84: first conv 3·64·9 = 1728; 5·5·64 = 1600 features.
    let convs = 1_728 + 3 * 36_864;
    assert_eq!(
        totals("maml_miniimagenet"),
        (convs + 512 + 1_600 * 5 + 5, 512)
    );
    // The paper's 32-filter Mini-ImageNet net: 864 + 3·9216 + 4·64 + 800·5 + 5.
    let net32 = zoo::few_shot_cnn(FewShotVariant::MaxPool, 32, [3, 84, 84], 5);
    let t = net32.analyse_default().unwrap().totals;
    assert_eq!(t.params, 864 + 3 * 9_216 + 256 + 4_005);
}

#[test]
fn vgg16_matches_torchvision() {
    // torchvision `vgg16` (IMAGENET1K_V1 weights table): 138,357,544 params,
    // convs and linears with bias, no batch norm.
    assert_eq!(totals("vgg16"), (138_357_544, 0));
}

#[test]
fn mobilenet_v1_matches_keras() {
    // Keras `MobileNet(alpha=1.0)` summary: total 4,253,864, trainable
    // 4,231,976, non-trainable 21,888 = BN moving mean and variance.
    assert_eq!(totals("mobilenet_v1"), (4_231_976, 21_888));
}

#[test]
fn resnet50_torchvision_and_slim_have_the_same_count() {
    // torchvision `resnet50` (IMAGENET1K_V1): 25,557,032 trainable params
    // (running statistics are buffers, not counted there: 53,120 here).
    assert_eq!(totals("resnet50"), (25_557_032, 53_120));
    // TF-slim `resnet_v1_50` with 1000 classes has the same layers, only the
    // strides move (the 1001-class checkpoint adds 2048 + 1 = 2049).
    assert_eq!(totals("resnet_v1_50"), (25_557_032, 53_120));
}

#[test]
fn alexnet_v2_counted_by_hand() {
    // TF-slim `alexnet_v2`, 1000 classes, every conv with bias, no BN.
    let layers: [(u64, u64, u64); 8] = [
        (3, 64, 121),
        (64, 192, 25),
        (192, 384, 9),
        (384, 384, 9),
        (384, 256, 9),
        (256, 4096, 25),
        (4096, 4096, 1),
        (4096, 1000, 1),
    ];
    let expected: u64 = layers.iter().map(|&(i, o, k)| i * o * k + o).sum();
    assert_eq!(expected, 50_303_912);
    assert_eq!(totals("alexnet_v2"), (expected, 0));
}

#[test]
fn mobilenet_v2_matches_torchvision() {
    // torchvision `mobilenet_v2` (IMAGENET1K_V1): 3,504,872 params.
    assert_eq!(totals("mobilenet_v2").0, 3_504_872);
}

#[test]
fn xception_matches_keras() {
    // Keras `Xception`: total 22,910,480 including BN moving statistics;
    // trainable 22,855,952, non-trainable 54,528.
    let (params, moving) = totals("xception");
    assert_eq!((params, moving), (22_855_952, 54_528));
    assert_eq!(params + moving, 22_910_480);
}

#[test]
fn inception_v3_matches_torchvision_and_keras() {
    // torchvision `inception_v3` (IMAGENET1K_V1, built with aux_logits=True):
    // 27,161,264 params, *including* the auxiliary classifier (3,326,696).
    assert_eq!(totals("inception_v3_aux").0, 27_161_264);
    let (params, moving) = totals("inception_v3");
    assert_eq!(params, 27_161_264 - 3_326_696);
    // Keras `InceptionV3`: total 23,851,784 incl. BN moving statistics. Its
    // batch norm has `scale=False` (no γ): one parameter fewer per BN
    // channel, and BN channels = moving statistics / 2.
    assert_eq!(params - moving / 2 + moving, 23_851_784);
    // Keras trainable: 23,817,352.
    assert_eq!(params - moving / 2, 23_817_352);
}

#[test]
fn receptive_fields_of_the_google_table() {
    // google-research/receptive_field README (TF-slim models, the
    // Distill paper's companion library): final end-points' (r, S, P).
    assert_eq!(rf(&analyse("alexnet_v2"), "pool5"), (195, 32, 64));
    assert_eq!(rf(&analyse("vgg16"), "pool5"), (212, 32, 90));
    assert_eq!(
        rf(&analyse("mobilenet_v1"), "Conv2d_13_pointwise"),
        (315, 32, 126)
    );
    assert_eq!(rf(&analyse("resnet_v1_50"), "block4"), (483, 32, 239));
    assert_eq!(rf(&analyse("inception_v3"), "Mixed_7c"), (1311, 32, 618));
}

#[test]
fn receptive_fields_derived_by_hand() {
    // VGG-16: each 3×3 conv adds 2·S, each 2×2 pool adds S and doubles S:
    // 1 + 4 → 5, +1 → 6 (S 2), +8 → 14, +2 → 16 (S 4), +24 → 40, +4 → 44
    // (S 8), +48 → 92, +8 → 100 (S 16), +96 → 196; P = Σ p·S = 2+4+12+24+48.
    assert_eq!(rf(&analyse("vgg16"), "conv5_3"), (196, 16, 90));
    // AlexNet v2: conv1 11/4; pool1 +2·4 = 19, S 8; conv2 +4·8 = 51;
    // pool2 +2·8 = 67, S 16; conv3..5 +32 each = 163.
    assert_eq!(rf(&analyse("alexnet_v2"), "conv5").0, 163);
    // torchvision ResNet-50: conv1 7, maxpool 11 (S 4), layer1 +3·8 = 35,
    // layer2 +8 +3·16 = 91, layer3 +16 +5·32 = 267, layer4 +32 +2·64 = 427.
    let a = analyse("resnet50");
    let sizes = ["layer1", "layer2", "layer3", "layer4"].map(|l| rf(&a, l).0);
    assert_eq!(sizes, [35, 91, 267, 427]);
    // slim ResNet-50: stride in the last unit: block1 35 (S 8), block3 291.
    let a = analyse("resnet_v1_50");
    assert_eq!((rf(&a, "block1").0, rf(&a, "block3").0), (35, 291));
    // Inception v3 stem: 3/2, 3, 3, pool 3/2, 1, 3 → 23 (S 4); pool → 31.
    let a = analyse("inception_v3");
    assert_eq!(rf(&a, "Conv2d_4a_3x3"), (23, 4, 2));
    assert_eq!(rf(&a, "MaxPool_5a_3x3").0, 31);
    // MAML Omniglot: four 3×3/2 convs: 3, 7, 15, 31 (S 16).
    assert_eq!(rf(&analyse("maml_omniglot"), "blocks.3").0, 31);
    // MAML Mini-ImageNet: conv 3, pool 4, conv 8, pool 10, …, blocks.3 46.
    assert_eq!(rf(&analyse("maml_miniimagenet"), "blocks.3"), (46, 16, 15));
}

#[test]
fn xception_at_299_is_misaligned_from_block3() {
    // Keras 'SAME' on the even 74×74 map of block 3: the 3×3/2 max-pool
    // centres output j on input 2j + 1, the 1×1/2 residual conv on 2j, so
    // the sum mixes fields with different centres. Block 2 (odd 147) is
    // aligned.
    let a = analyse("xception");
    assert!(a.receptive_field("block2_add").is_ok());
    let err = a.receptive_field("block3_add").unwrap_err();
    assert!(matches!(err, Error::Misaligned { ref merge, .. } if merge == "block3_add"));
    assert!(a.receptive_field("block14_sepconv2_act").is_err());
}
