// Runs inside a worker_threads Worker (started with `--import tsx`): initialise the backend and take a gradient.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendPref } from '../../workers/engine/backend.js';

const info = await initBackend(workerData as BackendPref);
const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2, 3]));
parentPort?.postMessage({ info, backend: tf.getBackend(), grad: Array.from(g.dataSync()) });
