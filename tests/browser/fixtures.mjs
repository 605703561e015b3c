// A small farm catalog for the browser tests (prices in fen). Images are served by the
// server from web-client/img/demo/.
export const CATALOG = [
  { id: 'pear-yulu', title: '隰县玉露香梨 5斤装 · 现摘现发', price: 3990, currency: 'CNY', stock: 120, image: '/static/img/demo/pear.svg' },
  { id: 'crab-suqian', title: 'Suqian hairy crab, 6 × 150 g, live', price: 16800, currency: 'CNY', stock: 40, image: '/static/img/demo/crab.svg' },
  { id: 'chili-cq', title: '重庆石柱红辣椒 500g', price: 1590, currency: 'CNY', stock: 300, image: '/static/img/demo/chili.svg' },
];

export const XSS_TITLE = '<img src=x onerror=alert(1)>';
