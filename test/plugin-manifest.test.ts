import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { parse } from 'yaml';
import { REPO_ROOT } from './support/cli.js';

// krew's manifest validation rules (krew pkg/index/validation/validate.go), as listed in
// ../shared/reference/toolchain.md: each is one assertion here.
describe('plugin.yaml is a valid krew manifest', () => {
  let manifest: any;
  let pkg: any;
  before(async () => {
    manifest = parse(await readFile(path.join(REPO_ROOT, 'plugin.yaml'), 'utf8'));
    pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8'));
  });

  it('has the krew apiVersion and kind', () => {
    expect(manifest.apiVersion).to.equal('krew.googlecontainertools.github.com/v1alpha2');
    expect(manifest.kind).to.equal('Plugin');
  });

  it('is named mesh-doctor, a valid plugin name matching the binary kubectl looks for', () => {
    expect(manifest.metadata.name).to.equal('mesh-doctor').and.match(/^[\w-]+$/);
    // kubectl finds the plugin as an executable named kubectl-mesh_doctor (npm's bin, krew's bin);
    // oclif's bin is only how help and usage name it, the way users type it.
    expect(Object.keys(pkg.bin)).to.include('kubectl-mesh_doctor');
    expect(pkg.oclif.bin).to.equal('kubectl mesh-doctor');
  });

  it('has a v-prefixed semver version equal to package.json', () => {
    expect(manifest.spec.version).to.match(/^v/);
    expect(semver.valid(manifest.spec.version.slice(1))).to.equal(pkg.version);
  });

  it('has a one-line shortDescription, a homepage and a description', () => {
    expect(manifest.spec.shortDescription).to.be.a('string').and.not.match(/\n/);
    expect(manifest.spec.shortDescription.length).to.be.at.most(50);
    expect(manifest.spec.homepage).to.match(/^https:\/\//);
    expect(manifest.spec.description).to.be.a('string').and.not.equal('');
  });

  it('gives every platform an os/arch-only selector, an archive uri, a lowercase sha256, the bin and non-empty files', () => {
    expect(manifest.spec.platforms).to.be.an('array').that.is.not.empty;
    for (const platform of manifest.spec.platforms) {
      expect(Object.keys(platform.selector.matchLabels).every((k) => k === 'os' || k === 'arch')).to.equal(true);
      expect(platform.uri).to.match(/\.(tar\.gz|zip)$/);
      expect(platform.sha256).to.match(/^[0-9a-f]{64}$/);
      const windows = platform.selector.matchLabels.os === 'windows';
      expect(platform.bin).to.equal(windows ? 'kubectl-mesh_doctor.exe' : 'kubectl-mesh_doctor');
      for (const file of platform.files ?? []) {
        expect(file.from).to.be.a('string').and.not.equal('');
        expect(file.to).to.be.a('string').and.not.equal('');
      }
    }
  });
});
