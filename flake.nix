{
  description = "zevac: boot a ZFS root from EBS, then move it onto the instance stores in the background";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: rec {
        zevac = pkgs.callPackage ./nix/package.nix { };
        default = zevac;
      });

      nixosModules = {
        default = ./nix/module.nix;
        ec2-zfs-root = ./nix/profiles/ec2-zfs-root.nix;
      };

      # An EC2 instance with its ZFS root on EBS, moved onto its instance stores at boot.
      # The AMI: nix build .#nixosConfigurations.ec2-example.config.system.build.amazonImage
      nixosConfigurations.ec2-example = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [
          "${nixpkgs}/nixos/maintainers/scripts/ec2/amazon-image.nix"
          self.nixosModules.ec2-zfs-root
          {
            services.zevac.package = self.packages.x86_64-linux.zevac;
            system.stateVersion = "25.05";
          }
        ];
      };
    };
}
