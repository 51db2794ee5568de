//! `zevac apply` as the initrd runs it: evacuations, layouts, and every refusal before anything
//! changes.

use zevac_bench::golden::{self, Layout};
use zevac_bench::{disks, selftest, BootSpec, Disk, Lab, Run, Throttle, ZfsPair};

use crate::scene::*;

/// zevac apply in the initrd, in the default (immutable) mode, on the golden image of `layout`:
/// the plan's dry run, the copy to its end, the data verified and scrubbed, a second apply that
/// finds nothing to do and releases the snapshot, and every EBS volume unwritten.
fn apply_evacuates(pair: ZfsPair, layout: Layout) {
    let _turn = one_at_a_time();
    let lab = Lab::prepare(pair).expect("preparing the lab");
    let golden = golden::golden_in(&lab, layout, 256).expect("building the golden image");
    let pool = layout.pool();
    let run = lab.new_run(&format!("zevac-apply-{pool}")).unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    let ebs: Vec<Disk> = disks
        .iter()
        .filter(|d| d.kind == zevac_bench::DiskKind::Ebs)
        .cloned()
        .collect();
    let before = hashes(&ebs);
    let script = format!("POOL={pool}\n{}", include_str!("../guest/apply.sh"));
    let config = format!("pool = \"{pool}\"\n");
    let outcome = boot_with_zevac(&lab, &run, &golden, disks, &script, Some(&config));
    let ev = &outcome.events;

    let apply = ev.cmd("apply").unwrap();
    println!(
        "zevac apply ({pair}, {layout:?}): {:.2} s in the guest\n{}{}",
        apply.seconds(),
        apply.stdout,
        apply.stderr
    );
    assert_eq!(apply.rc, 0, "{}", apply.stderr);
    // The origin's ashift: 12 where the image asked for it, 9 where nixpkgs' builder let ZFS
    // choose on the lab's volume; a removal needs the same on every top-level vdev.
    let ashift = match layout {
        Layout::Partition => 12,
        Layout::WholeDisk => 9,
    };
    assert!(
        apply
            .stdout
            .contains(&format!("zpool add -o ashift={ashift} {pool}"))
            && apply.stdout.contains(&format!("zpool remove {pool}")),
        "{}",
        apply.stdout
    );
    the_txg_timeout_was_short_for_the_changes_only(ev);
    // The dry run shows the steps.
    said(ev, "plan_before", 0, "write a GPT");
    // ... and the module parameters `apply` then writes (the balanced profile).
    said(ev, "plan_before", 0, "[apply] table: zfs_txg_timeout=1");
    said(
        ev,
        "plan_before",
        0,
        "around the writable import: zfs_removal_suspend_progress=1",
    );
    said(
        ev,
        "plan_before",
        0,
        "boot phase: zfs_remove_max_segment=1048576",
    );
    let wait = ev.cmd("wait").unwrap();
    println!(
        "copy finished {:.1} s after zevac apply returned",
        wait.end - apply.end
    );
    let done: serde_json::Value =
        serde_json::from_str(&ev.cmd("status_done").unwrap().stdout).unwrap();
    assert_eq!(done["state"], "copied", "{done}");
    let zstatus = ev.cmd("zstatus").unwrap().stdout;
    assert!(
        zstatus.contains("-part1") && !zstatus.contains("Elastic_Block_Store"),
        "the pool is on zevac's partitions:\n{zstatus}"
    );
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
    assert_eq!(
        selftest::scrub_errors(&ev.cmd("status_scrubbed").unwrap().stdout).unwrap(),
        0
    );
    let again = ev.cmd("apply_again").unwrap();
    assert_eq!(again.rc, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("nothing to do") && again.stdout.contains("finished"),
        "{}",
        again.stdout
    );
    // The copy went through the origin's snapshot, and the second apply released it.
    let mapped = |name: &str| ev.cmd(name).unwrap().stdout.contains("zevac-origin");
    assert!(mapped("dm_applied"), "apply made no snapshot mapping");
    assert!(
        !mapped("dm_again"),
        "the second apply left the snapshot: {}",
        ev.cmd("dm_again").unwrap().stdout
    );
    // The immutable origin: ZFS wrote its labels into the snapshot's store, not to EBS.
    let pool_volume = ebs.last().unwrap();
    let changed = changed_blocks(&golden.image, &pool_volume.image);
    println!(
        "EBS: {changed} of {} 4 KiB blocks changed",
        std::fs::metadata(&pool_volume.image).unwrap().len() / 4096
    );
    assert_eq!(changed, 0, "EBS was written");
    assert_eq!(hashes(&ebs), before, "an EBS volume was written");
    run.remove_images().unwrap();
}

/// The profile's `[apply]` table: `zfs_txg_timeout` 1 from before `zpool add` until `zpool
/// remove` returns, OpenZFS's 5 again after, in `apply`'s own log and read back.
fn the_txg_timeout_was_short_for_the_changes_only(ev: &zevac_bench::events::Events) {
    let log = &ev.cmd("apply").unwrap().stderr;
    let at = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in apply's log:\n{log}"))
    };
    let short = at("set parameter=\"zfs_txg_timeout\" value=\"1\"");
    let back = at("set parameter=\"zfs_txg_timeout\" value=\"5\"");
    assert!(
        short < at(" ran command=zpool add") && at(" ran command=zpool remove") < back,
        "{log}"
    );
    assert_eq!(ev.cmd("txg_timeout").unwrap().stdout.trim(), "5");
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_apply_evacuates_openzfs_2_3() {
    apply_evacuates(ZfsPair::V2_3, Layout::Partition);
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_apply_evacuates_openzfs_2_1() {
    apply_evacuates(ZfsPair::V2_1, Layout::Partition);
}

/// nixpkgs' EC2 layout: pool `tank` on a whole EBS volume beside a boot volume.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_apply_evacuates_nixpkgs_whole_disk_layout_openzfs_2_3() {
    apply_evacuates(ZfsPair::V2_3, Layout::WholeDisk);
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_apply_evacuates_nixpkgs_whole_disk_layout_openzfs_2_1() {
    apply_evacuates(ZfsPair::V2_1, Layout::WholeDisk);
}

/// Bad input: zevac refuses (or does nothing) and every disk image stays bit-identical.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn refusals_change_nothing() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let script = include_str!("../guest/zevac-apply.sh");
    let check =
        |run: &Run, name: &str, disks: &[Disk], config: Option<&str>, rc: i32, says: &str| {
            let before = hashes(disks);
            let outcome = boot_with_zevac(&lab, run, &golden, disks.to_vec(), script, config);
            let apply = outcome.events.cmd("apply").unwrap();
            println!("{name}: exit {} {}", apply.rc, apply.stdout.trim());
            assert_eq!(apply.rc, rc, "{name}: {}{}", apply.stdout, apply.stderr);
            assert!(apply.stdout.contains(says), "{name}: {}", apply.stdout);
            assert_eq!(hashes(disks), before, "{name}: a disk image changed");
        };

    // No instance store: nothing to do; zevac does not even import the pool.
    let run = lab.new_run("no-stores").unwrap();
    check(
        &run,
        "no-stores",
        &ec2_disks(&run, &golden, Throttle::mib_per_second(32), 0),
        None,
        0,
        "no local disks",
    );
    run.remove_images().unwrap();

    // One instance store too small for the 267 MiB on EBS plus ZFS's slop.
    let run = lab.new_run("too-small").unwrap();
    let mut disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 0);
    let small = run.path("small.img");
    disks::create_blank(&small, 300 << 20).unwrap();
    disks.push(Disk::instance_store(small, 0));
    check(&run, "too-small", &disks, None, 3, "too small");
    run.remove_images().unwrap();

    // An instance store holding ext4: refused and untouched; with wiping allowed, used.
    let run = lab.new_run("not-blank").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    lab.run(
        &run,
        &BootSpec::new("mkfs", disks.clone(), include_str!("../guest/make-ext4.sh")),
    )
    .unwrap();
    check(&run, "not-blank", &disks, None, 3, "ext4");
    let wiped = boot_with_zevac(
        &lab,
        &run,
        &golden,
        disks,
        script,
        Some("[local]\nallow_wipe = true\n"),
    );
    let apply = wiped.events.cmd("apply").unwrap();
    assert_eq!(apply.rc, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains("wipefs --all") && apply.stdout.contains("write a GPT"),
        "{}",
        apply.stdout
    );
    assert!(
        wiped
            .events
            .cmd("zstatus")
            .unwrap()
            .stdout
            .contains("Evacuation of"),
        "the evacuation did not start"
    );
    run.remove_images().unwrap();

    // An encrypted dataset whose key is not loaded (as in an initrd before the passphrase).
    let run = lab.new_run("locked-key").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    lab.run(
        &run,
        &BootSpec::new(
            "encrypt",
            disks.clone(),
            include_str!("../guest/make-encrypted.sh"),
        ),
    )
    .unwrap();
    check(
        &run,
        "locked-key",
        &disks,
        None,
        3,
        "encryption keys of rpool/secret are not loaded",
    );
    run.remove_images().unwrap();
}

/// On a running system, a data pool that is imported, mounted and being written to: `zevac
/// apply --config` (pool `tank`, origin found by the EBS rule) evacuates it without importing
/// anything; the writes go on, and old and new data are there afterwards.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn apply_evacuates_a_data_pool_in_use() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("data-pool").unwrap();
    let mut disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    let data = run.path("data.img");
    disks::create_blank(&data, 512 << 20).unwrap();
    disks.push(Disk::ebs_volume(data, "data").throttled(Throttle::mib_per_second(16)));
    let spec = zevac_spec(
        "data-pool",
        disks,
        include_str!("../guest/data-pool-running.sh"),
        &golden,
    )
    .file(
        "/lab/tank.toml",
        "pool = \"tank\"\n[origin]\nmode = \"in-place\"\n",
    );
    let ev = lab.run(&run, &spec).unwrap().events;
    let apply = ev.cmd("apply").unwrap();
    println!(
        "zevac apply on the running system: {:.2} s\n{}{}",
        apply.seconds(),
        apply.stdout,
        apply.stderr
    );
    assert_eq!(apply.rc, 0, "{}", apply.stderr);
    assert!(
        !apply.stdout.contains("imported pool"),
        "the pool was imported already: {}",
        apply.stdout
    );
    assert!(
        apply.stdout.contains("zpool add -o ashift=12 tank")
            && apply.stdout.contains("zpool remove tank"),
        "{}",
        apply.stdout
    );
    let started = ev.cmd("zstatus_started").unwrap().stdout;
    assert!(started.contains("Evacuation of"), "{started}");
    assert_eq!(ev.cmd("wait").unwrap().rc, 0);
    let zstatus = ev.cmd("zstatus").unwrap().stdout;
    assert!(
        zstatus.contains("Instance_Storage") && !zstatus.contains("Elastic_Block_Store"),
        "tank is on the instance stores only:\n{zstatus}"
    );
    let done = json_of(&ev, "status_done");
    assert_eq!(done["pool"], "tank", "{done}");
    assert_eq!(done["state"], "copied", "{done}");
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the old data changed");
    let (written, files) = (number_of(&ev, "written"), number_of(&ev, "new_files"));
    println!("the writer wrote {written} files of 2 MiB during apply and the copy");
    assert!(
        written > 0 && files == written,
        "{written} written, {files} found"
    );
    run.remove_images().unwrap();
}

/// A checkpoint and a raidz vdev are refused with their reasons.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn checkpoint_and_raidz_are_refused() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("checkpoint-raidz").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 4);
    // tank: its three raidz disks play the origin, the fourth instance store the local disk.
    let glob = |d: &Disk| format!("\"/dev/disk/by-id/*_{}\"", d.serial);
    let tank = format!(
        "pool = \"tank\"\n[origin]\ndisks = [{}]\n[local]\ndisks = [{}]\n",
        disks[2..].iter().map(glob).collect::<Vec<_>>().join(", "),
        glob(&disks[1])
    );
    let spec = zevac_spec(
        "refusals",
        disks,
        include_str!("../guest/checkpoint-and-raidz.sh"),
        &golden,
    )
    .file("/lab/tank.toml", tank);
    let ev = lab.run(&run, &spec).unwrap().events;
    for (name, says) in [("apply_checkpoint", "checkpoint"), ("apply_raidz", "raidz")] {
        let c = ev.cmd(name).unwrap();
        println!("{name}: exit {} {}", c.rc, c.stdout.trim());
        assert_eq!(c.rc, 3, "{name}: {}{}", c.stdout, c.stderr);
        assert!(c.stdout.contains(says), "{name}: {}", c.stdout);
    }
    run.remove_images().unwrap();
}

/// The immutable origin with a copy-on-write store far too small (1 MiB; ZFS writes about 2 MiB
/// there, and a full store invalidates the snapshot, which suspends the pool: seen in the lab).
/// zevac refuses it before it changes anything: exit 2 with the reason, no pool imported, no
/// mapping, every disk image bit-identical.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn a_copy_on_write_store_too_small_is_refused_before_anything_changes() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("cow-too-small").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    let before = hashes(&disks);
    let outcome = boot_with_zevac(
        &lab,
        &run,
        &golden,
        disks.clone(),
        include_str!("../guest/zevac-apply.sh"),
        Some("[layout]\ncow_size = \"1MiB\"\n"),
    );
    let ev = &outcome.events;
    let apply = ev.cmd("apply").unwrap();
    println!("apply (exit {}): {}", apply.rc, apply.stderr.trim());
    assert_eq!(apply.rc, 2, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stderr.contains("layout.cow_size") && apply.stderr.contains("at least 64MiB"),
        "{}",
        apply.stderr
    );
    assert!(
        ev.cmd("zstatus")
            .unwrap()
            .stdout
            .contains("no pools available")
            || ev
                .cmd("zstatus")
                .unwrap()
                .stderr
                .contains("no pools available"),
        "nothing imported"
    );
    assert_eq!(hashes(&disks), before, "a disk image changed");
    run.remove_images().unwrap();
}

/// Instance stores of uneven sizes, the small one first in the kernel's order. A 300 MiB store
/// cannot hold the 256 MiB copy-on-write store beside a data partition: the plan puts the store on
/// a 1 GiB disk, and the copy runs to a verified end. A 64 MiB store holds no data partition at
/// all: plan and apply both refuse, and no disk changes.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn uneven_instance_stores_evacuate_or_are_refused_before_anything_changes() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    for (small_mib, expect) in [(64, "refuse"), (300, "evacuate")] {
        let run = lab.new_run(&format!("uneven-{small_mib}")).unwrap();
        let mut disks = run
            .ec2_disks(&golden, Some(Throttle::mib_per_second(32)), 0, 0)
            .unwrap();
        for (i, mib) in [small_mib, 1024, 1024].into_iter().enumerate() {
            let img = run.path(&format!("is{i}.img"));
            disks::create_blank(&img, mib << 20).unwrap();
            disks.push(Disk::instance_store(img, i));
        }
        let before = hashes(&disks);
        let script = format!("EXPECT={expect}\n{}", include_str!("../guest/uneven.sh"));
        let outcome = boot_with_zevac(&lab, &run, &golden, disks.clone(), &script, None);
        let ev = &outcome.events;
        let (plan, apply) = (ev.cmd("plan").unwrap(), ev.cmd("apply").unwrap());
        println!(
            "{small_mib} MiB first: plan exit {}, apply exit {}\n{}{}",
            plan.rc, apply.rc, apply.stdout, apply.stderr
        );
        if expect == "refuse" {
            for c in [&plan, &apply] {
                assert_eq!(c.rc, 3, "refused: {}{}", c.stdout, c.stderr);
                assert!(
                    format!("{}{}", c.stdout, c.stderr)
                        .contains("is too small for zevac's partitions"),
                    "{}{}",
                    c.stdout,
                    c.stderr
                );
            }
            let z = ev.cmd("zstatus").unwrap();
            assert!(
                format!("{}{}", z.stdout, z.stderr).contains("no pools available"),
                "nothing imported: {}",
                z.stdout
            );
            assert!(!ev.cmd("dm").unwrap().stdout.contains("zevac-origin"));
            assert_eq!(hashes(&disks), before, "a disk image changed");
        } else {
            assert_eq!(plan.rc, 0, "{}{}", plan.stdout, plan.stderr);
            assert_eq!(apply.rc, 0, "{}", apply.stderr);
            let small = disks[1].by_id();
            let cow_line = apply
                .stdout
                .lines()
                .find(|l| l.contains("zevac-cow ("))
                .unwrap_or_else(|| panic!("no store in the plan:\n{}", apply.stdout));
            assert!(
                !cow_line.contains(&format!("{small}:")),
                "the store went on the small disk: {cow_line}"
            );
            assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
            let done = ev.cmd("zstatus_done").unwrap().stdout;
            assert!(
                done.contains(&format!("{small}-part1")) && !done.contains("Elastic_Block_Store"),
                "every store holds data, EBS none:\n{done}"
            );
            assert_eq!(hashes(&disks[..1]), before[..1], "EBS was written");
        }
        run.remove_images().unwrap();
    }
}

/// `zevac=off` disables apply; a layout with special and L2ARC partitions is carved and added;
/// the state record is written.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_apply_with_special_and_cache_partitions() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("zevac-layout").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    let config = "[layout]\nspecial_size = \"64MiB\"\ncache_size = \"96MiB\"\n";
    let ev = boot_with_zevac(
        &lab,
        &run,
        &golden,
        disks,
        include_str!("../guest/apply-layout.sh"),
        Some(config),
    )
    .events;

    let off = ev.cmd("apply_off").unwrap();
    assert_eq!(off.rc, 0);
    assert!(off.stdout.contains("disabled"), "{}", off.stdout);
    let apply = ev.cmd("apply").unwrap();
    assert_eq!(apply.rc, 0, "{}{}", apply.stdout, apply.stderr);
    println!("{}", apply.stdout);
    let status = ev.cmd("zstatus").unwrap().stdout;
    for heading in ["special", "cache"] {
        assert!(
            status.lines().any(|l| l.trim() == heading),
            "no {heading} vdevs:\n{status}"
        );
    }
    assert!(
        status.contains("-part2") && status.contains("-part3"),
        "{status}"
    );
    let parts = ev.cmd("parts").unwrap().stdout;
    for label in ["zevac-data", "zevac-special", "zevac-cache"] {
        assert_eq!(parts.matches(label).count(), 2, "{label}:\n{parts}");
    }
    let state: serde_json::Value = serde_json::from_str(&ev.cmd("state").unwrap().stdout).unwrap();
    assert_eq!(state["pool"], "rpool");
    assert_eq!(state["local"].as_array().unwrap().len(), 2, "{state}");
    assert_eq!(state["decision"]["decision"], "steps", "{state}");
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
    run.remove_images().unwrap();
}

/// OpenStack-style virtio disks with no model: explicit lists in the config name the origin and
/// the local disks. The guest sees the root volume's 4096-byte physical sectors (virtio-blk
/// passes them on; QEMU's NVMe does not), the ephemeral disks' 512, and zevac adds with the
/// label's ashift.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn explicit_lists_move_a_pool_on_virtio_disks() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("openstack-virtio").unwrap();
    let root = run.path("root.img");
    disks::copy_sparse(&golden.image, &root).unwrap();
    let mut list = vec![Disk::virtio(root, "root")
        .sectors(512, 4096)
        .throttled(Throttle::mib_per_second(32))];
    for i in 0..2 {
        let img = run.path(&format!("eph{i}.img"));
        disks::create_blank(&img, 1024 << 20).unwrap();
        list.push(Disk::virtio(img, &format!("eph{i}")));
    }
    let config = "[origin]\ndisks = [\"/dev/disk/by-id/virtio-os-root\"]\n\
                  [local]\ndisks = [\"/dev/disk/by-id/virtio-os-eph*\"]\n";
    let ev = boot_with_zevac(
        &lab,
        &run,
        &golden,
        list,
        include_str!("../guest/openstack-virtio.sh"),
        Some(config),
    )
    .events;
    let sectors = ev.cmd("sectors").unwrap().stdout;
    println!("serial, logical, physical sector size in the guest:\n{sectors}");
    assert!(
        sectors.lines().any(|l| l == "os-root 512 4096"),
        "{sectors}"
    );
    assert!(sectors.lines().any(|l| l == "os-eph0 512 512"), "{sectors}");
    let devices = ev.cmd("devices").unwrap().stdout;
    println!("{devices}");
    assert_eq!(
        devices
            .matches("matches the configured local disks")
            .count(),
        2,
        "{devices}"
    );
    assert!(
        devices.contains("matches the configured origin"),
        "{devices}"
    );
    let apply = ev.cmd("apply").unwrap();
    assert_eq!(apply.rc, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains("zpool add -o ashift=12 rpool"),
        "{}",
        apply.stdout
    );
    assert_eq!(ev.cmd("wait").unwrap().rc, 0);
    let zstatus = ev.cmd("zstatus").unwrap().stdout;
    assert!(
        zstatus.contains("virtio-os-eph0-part1") && !zstatus.contains("virtio-os-root"),
        "{zstatus}"
    );
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
    run.remove_images().unwrap();
}
