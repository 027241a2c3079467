/**
 * Every execution provider, registered by importing its file (provider-registry.ts): a new provider is one file
 * and its line here. Priority, not this order, decides what `--device auto` tries first.
 */
import './cpu.js';
import './webgpu.js';
import './cuda.js';
