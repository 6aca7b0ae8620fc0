// Comparing a fast kernel's tensor with the reference's.
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** max|a − b| / max|b| (floor 1e-6): one number per tensor, strict where values are small. */
export function relErr(a: tf.Tensor, b: tf.Tensor): number {
  const av = a.dataSync(),
    bv = b.dataSync();
  expect(av.length).toBe(bv.length);
  let num = 0,
    den = 1e-6;
  for (let i = 0; i < av.length; i++) {
    num = Math.max(num, Math.abs(av[i] - bv[i]));
    den = Math.max(den, Math.abs(bv[i]));
  }
  return num / den;
}
