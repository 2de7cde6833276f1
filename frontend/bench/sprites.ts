// The benchmark's in-run reference: the same number of sprites as the canvas draws pods, in
// the same browser and renderer, recoloured at the same rate, with nothing else.
//   /static/bench/sprites.html?n=1000&rate=200

import { Application, Graphics, Sprite } from "pixi.js";

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const n = Number(params.get("n") ?? 1000);
  const rate = Number(params.get("rate") ?? 200);
  const host = document.getElementById("canvas")!;
  const app = new Application();
  await app.init({ resizeTo: host, background: 0xf6f8fb, antialias: true });
  host.append(app.canvas);
  const texture = app.renderer.generateTexture({ target: new Graphics().circle(6, 6, 6).fill(0xffffff), resolution: 2 });
  const columns = Math.ceil(Math.sqrt(n * 1.6));
  const sprites: Sprite[] = [];
  for (let i = 0; i < n; i++) {
    const s = new Sprite(texture);
    s.width = s.height = 12;
    s.position.set(20 + (i % columns) * 15, 20 + Math.floor(i / columns) * 15);
    s.tint = 0x009e73;
    app.stage.addChild(s);
    sprites.push(s);
  }
  const intervals: number[] = [];
  let owed = 0;
  let next = 0;
  const colours = [0x009e73, 0xe69f00, 0x56b4e9, 0xd55e00];
  app.ticker.add((ticker) => {
    intervals.push(ticker.elapsedMS);
    owed += (rate * ticker.deltaMS) / 1000;
    for (; owed >= 1; owed--) {
      const s = sprites[next++ % n];
      s.tint = colours[next % colours.length];
    }
  });
  (window as unknown as { reference: unknown }).reference = { intervals: () => intervals.slice(), count: n };
}

void main();
