use super::*;
use crate::testing::{catalog, desc, image, CONFIG};

#[test]
fn a_base_layer_two_images_use_is_shared_and_counted_once() {
    let base = image("base", &[("os", 100)], false);
    let app = image("app", &[("os", 100), ("app", 10)], false);
    let tool = image("tool", &[("os", 100), ("tool", 7)], false);
    let s = layer_sharing(&catalog(&[
        ("b:1", base.clone()),
        ("a:1", app.clone()),
        ("t:1", tool),
    ]));
    assert_eq!(s.layers_size, 117 + 3 * CONFIG);
    assert_eq!(s.shared[&base.id], 100);
    assert_eq!(s.shared[&app.id], 100);
    assert_eq!((s.cache_images, s.cache_only_size), (0, 0));
}

#[test]
fn the_same_layers_on_another_base_are_not_shared() {
    // "x" on top of "os" and "x" alone are two layers (chain IDs differ).
    let a = image("a", &[("os", 100), ("x", 5)], false);
    let b = image("b", &[("x", 5)], false);
    let s = layer_sharing(&catalog(&[("a:1", a.clone()), ("b:1", b.clone())]));
    assert_eq!(s.layers_size, 110 + 2 * CONFIG);
    assert_eq!((s.shared[&a.id], s.shared[&b.id]), (0, 0));
}

#[test]
fn hidden_build_cache_counts_only_its_own_layers() {
    let app = image("app", &[("os", 100), ("app", 10)], false);
    let step = image("step", &[("os", 100), ("step", 30)], true);
    let tagged_step = image("kept", &[("os", 100), ("kept", 3)], true);
    let s = layer_sharing(&catalog(&[
        ("a:1", app.clone()),
        ("", step),
        ("k:1", tagged_step),
    ]));
    assert_eq!(s.cache_images, 1);
    assert_eq!(s.cache_only_size, 30);
    assert_eq!(s.cache.len(), 1);
    assert_eq!(s.cache[0].1, 30);
    assert_eq!(s.layers_size, 113 + 2 * CONFIG);
    assert_eq!(s.shared[&app.id], 100);
}

#[test]
fn two_records_of_one_image_are_one_image() {
    let mut other = image("app", &[("os", 100)], false);
    other.manifest = desc("another manifest of app", 1);
    let app = image("app", &[("os", 100)], false);
    let s = layer_sharing(&catalog(&[("a:1", app.clone()), ("a:oci", other)]));
    assert_eq!(s.shared[&app.id], 0);
    assert_eq!(s.layers_size, 100 + CONFIG);
}

#[test]
fn a_layer_two_cache_steps_share_is_counted_once() {
    let one = image("one", &[("os", 100), ("dl", 40)], true);
    let two = image("two", &[("os", 100), ("dl", 40), ("x", 2)], true);
    let s = layer_sharing(&catalog(&[("", one), ("", two)]));
    assert_eq!(s.cache_images, 2);
    assert_eq!(s.cache_only_size, 142);
    assert_eq!(s.cache.iter().map(|(_, n)| n).sum::<u64>(), 142);
    assert_eq!(s.layers_size, 0);
}
