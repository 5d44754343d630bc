// Preloaded into electronegativity: it fetches translations from the internet on every run. This
// machine (and CI) talks to loopback only, so that request is answered locally with a refusal and
// the tool falls back to its bundled English texts.
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === 'got') return () => Promise.reject(new Error('network disabled for electronegativity'));
  return load.call(this, request, parent, isMain);
};
