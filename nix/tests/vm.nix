# A NixOS VM test, in the form nixpkgs' own modules are tested in (pkgs.testers.runNixOSTest):
# a machine with an EBS-like disk that holds pool `tank` and two instance-store-like disks,
# services.zevac enabled. The first boot makes the pool on the EBS-like disk and writes data; the
# second boots with zevac in the systemd initrd, which moves the pool onto the two other disks
# through the snapshot of the first; zevac-watch follows the copy to a verified end; the data
# is checked. NixOS's test VMs have virtio disks with no telling model (and, without a serial,
# no by-id link), so the disks get serials and the module names them by glob, as on OpenStack.
#
#   nix-build nix/tests/vm.nix -I nixpkgs=/path/to/nixpkgs          # runs it (needs KVM)
#   nix-instantiate nix/tests/vm.nix -A driver --arg pkgs 'import /path/to/nixpkgs { }'
{
  pkgs ? import <nixpkgs> { },
  extraModules ? [ ],
}:
let
  disks = [
    "ebs0"
    "store0"
    "store1"
  ];
in
pkgs.testers.runNixOSTest {
  name = "zevac";

  nodes.machine =
    { ... }:
    {
      imports = [ ../module.nix ] ++ extraModules;
      boot.initrd.systemd.enable = true;
      # The pool is not the root: zevac's initrd unit still runs before the root mount, so the
      # initrd needs ZFS.
      boot.initrd.supportedFilesystems = [ "zfs" ];
      boot.supportedFilesystems = [ "zfs" ];
      networking.hostId = "8425e349";
      virtualisation.memorySize = 2048;
      # Created by the test script before the first boot, in the VM's state directory.
      virtualisation.qemu.drives = map (name: {
        inherit name;
        file = ''"$TMPDIR"/${name}.qcow2'';
        driveExtraOpts.werror = "report";
        deviceExtraOpts.serial = name;
      }) disks;
      services.zevac = {
        enable = true;
        pool = "tank";
        origin = [ "/dev/disk/by-id/virtio-ebs0" ];
        localDisks = [ "/dev/disk/by-id/virtio-store*" ];
        # A quick copy: the test waits for its end.
        profile = "fast";
      };
    };

  testScript = ''
    import os
    import subprocess

    for name in ${builtins.toJSON disks}:
        subprocess.run(
            ["${pkgs.qemu_test}/bin/qemu-img", "create", "-f", "qcow2",
             os.path.join(machine.state_dir, name + ".qcow2"), "2G"],
            check=True,
        )

    with subtest("a pool on the EBS-like disk, with data"):
        machine.wait_for_unit("multi-user.target")
        machine.succeed(
            "zpool create -o ashift=12 -O mountpoint=legacy tank /dev/disk/by-id/virtio-ebs0",
            "mkdir -p /mnt && mount -t zfs tank /mnt",
            "dd if=/dev/urandom of=/mnt/data bs=1M count=256",
            "sha256sum /mnt/data > /root/data.sha256",
            "umount /mnt",
            "zpool export tank",
        )
        machine.shutdown()

    with subtest("zevac moves it in the initrd, the watcher verifies it"):
        machine.start()
        machine.wait_for_unit("multi-user.target")
        machine.succeed("journalctl -b -u zevac.service | grep 'zpool remove tank'")
        machine.wait_until_succeeds(
            "zevac status --json | grep -q '\"state\": \"verified\"'", timeout=1200
        )
        machine.succeed(
            "zpool status -P tank | grep -q virtio-store0",
            "! zpool status -P tank | grep -q -e virtio-ebs0 -e zevac-origin",
            "mount -t zfs tank /mnt",
            "cd /mnt && sha256sum -c /root/data.sha256",
        )
  '';
}
