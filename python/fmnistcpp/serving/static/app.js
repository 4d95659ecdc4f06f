// The page's only script: send a photo or the drawing to :classify, show the answer.
"use strict";

(function () {
  const model = document.body.dataset.model;
  const url = "/v1/models/" + encodeURIComponent(model) + ":classify";
  const names = JSON.parse(document.body.dataset.classes);
  const TOP = 5;
  const $ = (id) => document.getElementById(id);

  const status = $("status");
  const error = $("error");
  const className = $("class-name");
  const top = $("top");
  const seen = $("seen");
  let busy = false;

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
    status.textContent = "That did not work.";
  }

  function show(answer) {
    error.hidden = true;
    status.textContent = "";
    className.textContent = answer.class_name;

    // the 28 x 28 input, one canvas pixel per image pixel (scaled by CSS)
    const ctx = seen.getContext("2d");
    const img = ctx.createImageData(28, 28);
    answer.input.forEach((row, y) => row.forEach((v, x) => {
      const i = 4 * (28 * y + x);
      img.data[i] = img.data[i + 1] = img.data[i + 2] = v;
      img.data[i + 3] = 255;
    }));
    ctx.putImageData(img, 0, 0);

    const ranked = answer.predictions
      .map((p, i) => ({ p, name: names[i] || "class " + i }))
      .sort((a, b) => b.p - a.p)
      .slice(0, TOP);
    top.replaceChildren(...ranked.map(({ p, name }) => {
      const li = document.createElement("li");
      const label = document.createElement("span");
      label.className = "name";
      label.textContent = name;
      const bar = document.createElement("meter");
      bar.min = 0; bar.max = 1; bar.value = p;
      bar.setAttribute("aria-label", name);
      const pct = document.createElement("span");
      pct.className = "pct";
      pct.textContent = (100 * p).toFixed(1) + "%";
      li.append(label, bar, pct);
      return li;
    }));
  }

  let givenUrl = null;
  function showGiven(blob) {
    if (givenUrl) URL.revokeObjectURL(givenUrl);
    givenUrl = URL.createObjectURL(blob);
    $("given").src = givenUrl;
    $("given-figure").hidden = false;
  }

  async function send(blob, filename) {
    if (busy) return;
    busy = true;
    showGiven(blob);
    status.textContent = "Asking the model...";
    error.hidden = true;
    try {
      const form = new FormData();
      form.append("image", blob, filename);
      const response = await fetch(url, { method: "POST", body: form });
      let answer;
      try {
        answer = await response.json();
      } catch (e) {
        throw new Error("the server answered " + response.status + " without JSON");
      }
      if (!response.ok) throw new Error(answer.error || "the server answered " + response.status);
      show(answer);
    } catch (e) {
      showError(e.message);
    } finally {
      busy = false;
    }
  }

  // -- photos: file chooser, camera, drag and drop --------------------------
  for (const id of ["file", "camera"]) {
    $(id).addEventListener("change", (event) => {
      const file = event.target.files[0];
      if (file) send(file, file.name);
      event.target.value = "";  // the same file can be chosen again
    });
  }
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = e.dataTransfer.files[0];
    if (file) send(file, file.name);
  });

  // -- drawing: dark strokes on white, like an item on a light background ----
  const pad = $("pad");
  const pen = pad.getContext("2d");
  function clear() {
    pen.fillStyle = "#ffffff";
    pen.fillRect(0, 0, pad.width, pad.height);
  }
  clear();
  pen.lineCap = pen.lineJoin = "round";
  pen.lineWidth = 18;
  pen.strokeStyle = "#202020";
  let drawing = false;
  function at(e) {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  }
  pad.addEventListener("pointerdown", (e) => {
    drawing = true;
    pad.setPointerCapture(e.pointerId);
    const [x, y] = at(e);
    pen.beginPath();
    pen.moveTo(x, y);
    pen.lineTo(x + 0.1, y);
    pen.stroke();
  });
  pad.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const [x, y] = at(e);
    pen.lineTo(x, y);
    pen.stroke();
  });
  for (const ev of ["pointerup", "pointercancel"]) pad.addEventListener(ev, () => { drawing = false; });
  $("clear").addEventListener("click", clear);
  $("classify-drawing").addEventListener("click", () => {
    pad.toBlob((blob) => send(blob, "drawing.png"), "image/png");
  });
})();
