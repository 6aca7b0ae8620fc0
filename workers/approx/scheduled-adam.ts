// Adam whose learning rate is given per step (the lab's decay schedule). The engine's Optimizer has a fixed lr
// and serialisable slots for bit-identical resumes; the lab needs neither resume nor a fixed lr.
import * as tf from '@tensorflow/tfjs-core';
import { ADAM_BETA1, ADAM_BETA2, ADAM_EPS } from '../engine/optimizer.js';

export class ScheduledAdam {
  step = 0;
  private readonly m: tf.Tensor[];
  private readonly v: tf.Tensor[];

  constructor(private readonly params: tf.Variable[]) {
    this.m = params.map((p) => tf.keep(tf.zerosLike(p)));
    this.v = params.map((p) => tf.keep(tf.zerosLike(p)));
  }

  apply(grads: tf.Tensor[], lr: number): void {
    this.step++;
    const stepSize = lr / (1 - ADAM_BETA1 ** this.step);
    const invSqrtBc2 = 1 / Math.sqrt(1 - ADAM_BETA2 ** this.step);
    this.params.forEach((p, i) => {
      const [m, v] = tf.tidy(() => {
        const m1 = tf.add(tf.mul(this.m[i]!, ADAM_BETA1), tf.mul(grads[i]!, 1 - ADAM_BETA1));
        const v1 = tf.add(tf.mul(this.v[i]!, ADAM_BETA2), tf.mul(tf.square(grads[i]!), 1 - ADAM_BETA2));
        p.assign(tf.sub(p, tf.mul(tf.div(m1, tf.add(tf.mul(tf.sqrt(v1), invSqrtBc2), ADAM_EPS)), stepSize)));
        return [tf.keep(m1), tf.keep(v1)];
      });
      this.m[i]!.dispose();
      this.v[i]!.dispose();
      this.m[i] = m!;
      this.v[i] = v!;
    });
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
