// Widget labels and MathJax 3, on the pages that carry widgets (nb_ipywidgets_js in _config.yml;
// served as _static/widget-math.js from _assets, see _ext/offline_assets.py).
// The widget manager typesets each widget's label with MathJax 2's API, MathJax.Hub.Queue; the
// book loads MathJax 3, which has no Hub, so every label would log "Cannot read properties of
// undefined (reading 'Queue')". This gives MathJax 3 that one entry point. MathJax 3 replaces
// window.MathJax when its deferred script runs: DOMContentLoaded comes after every deferred
// script, and the widgets render on 'load', after it.
window.addEventListener("DOMContentLoaded", () => {
  const mathjax = window.MathJax;
  if (!mathjax || mathjax.Hub) return;
  mathjax.Hub = {
    Queue: (command) => {  // command: ["Typeset", MathJax.Hub, element]
      const element = command[2];
      if (mathjax.startup && mathjax.typesetPromise) {
        mathjax.startup.promise = mathjax.startup.promise.then(() => mathjax.typesetPromise([element]));
      }
    },
  };
});
