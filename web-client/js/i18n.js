// zh-CN and en. The language comes from a saved choice, else navigator.language; the
// switch saves the choice and re-renders every [data-i18n] node and every listener.

const STRINGS = {
  en: {
    'app.name': 'Harvest Live',
    'app.tagline': 'Fresh from the farm, live.',
    'lang.switch': '中文',
    'lang.switch.label': 'Switch language',

    'conn.connecting': 'Connecting…',
    'conn.reconnecting': 'Reconnecting in {s}s…',
    'conn.reconnecting.now': 'Reconnecting…',
    'conn.offline': 'You are offline. We will reconnect when the network is back.',
    'conn.live': 'Connected',
    'conn.stream_missing': 'This stream does not exist.',

    'stream.live': 'LIVE',
    'stream.offline': 'OFFLINE',
    'stream.replay': 'REPLAY',
    'replay.chapters': 'Products in this replay',
    'replay.missing': 'This replay is not available (it may have been deleted).',
    'replay.watch': 'Watch the replay of {when}',
    'stream.waiting': 'The farmer is not live right now. The video starts by itself when they are back.',
    'stream.loading': 'Loading video…',
    'viewers': '{n} watching',

    'player.unmute': 'Tap to unmute',
    'player.tap_to_play': 'Tap to play',

    'card.stock': '{n} left',
    'card.sold_out': 'Sold out',
    'card.bought': '{n} bought',
    'card.flash': 'Flash sale',
    'card.ends_in': 'ends in {t}',
    'card.ended': 'Sale ended',
    'card.buy': 'Buy',
    'card.buying': 'Buying…',
    'card.qty.dec': 'One less',
    'card.qty.inc': 'One more',
    'card.qty': 'Quantity',
    'card.close': 'Close',

    'order.confirmed': 'Order confirmed',
    'order.confirmed.detail': 'Order {id} · {qty} × {title} · {total}',
    'order.rejected': 'Not bought',
    'order.reason.sold_out': 'Sold out — every unit has been taken.',
    'order.reason.limit_reached': 'You have reached the limit per buyer for this item.',
    'order.reason.sale_ended': 'The flash sale has ended.',
    'order.reason.invalid': 'That order is not valid (product or quantity).',
    'order.reason.rate_limited': 'Too many attempts — please wait a moment and try again.',
    'order.reason.unavailable': 'The shop could not save your order just now. Nothing was charged — please try again.',
    'order.reason.unknown': 'The order could not be placed ({reason}).',
    'order.pending': 'Sending your order…',
    'order.timeout': 'No answer yet — we will keep trying with the same order.',

    'purchase.line': '{buyer} bought {qty}',
    'chat.placeholder': 'Say something…',
    'chat.send': 'Send',
    'chat.muted': 'The host has muted you for a while.',
    'chat.title': 'Chat',
    'chat.empty': 'No messages yet.',
    'chat.muted': 'Muted',
    'products.title': 'In this stream',
    'products.empty': 'No products yet.',
    'products.on_screen': 'On screen now',

    'shop.products': 'Products',
    'shop.my_orders': 'My orders',
    'product.sheet': 'Product',
    'product.open': 'Details of {title}',

    'checkout.title': 'Delivery and payment',
    'checkout.reserved': 'Reserved for you: {t} left to check out',
    'checkout.expired': 'The time to check out has passed; the units went back on sale.',
    'checkout.name': 'Name',
    'checkout.phone': 'Mobile number',
    'checkout.address': 'Delivery address',
    'checkout.address.placeholder': 'Province, city, district, street and number',
    'checkout.payment': 'Payment',
    'checkout.remember': 'Kept on this device for your next order.',
    'checkout.submit': 'Place order · {total}',
    'checkout.sending': 'Placing your order…',
    'checkout.done': 'Order placed',
    'checkout.done.offline': 'The farmer will contact you at {phone} about payment and delivery.',
    'checkout.done.gateway': 'Waiting for the payment to be confirmed.',
    'checkout.pay_now': 'Pay now',
    'checkout.error.name': 'Please enter the name of the person receiving the parcel.',
    'checkout.error.phone': 'Please enter an 11-digit mobile number starting with 1.',
    'checkout.error.address': 'Please enter the full address (province, city, street, number).',
    'checkout.error.conflict': 'This order can no longer be checked out: it is {status}.',
    'checkout.error.failed': 'The order could not be placed ({status}). Please try again.',
    'checkout.error.network': 'No connection. Please try again.',
    'payment.offline': 'Cash on delivery or transfer to the farmer',
    'payment.gateway': 'Pay online',

    'orders.loading': 'Loading your orders…',
    'orders.empty': 'No orders yet.',
    'orders.error': 'Your orders could not be loaded ({status}).',
    'orders.retry': 'Try again',
    'orders.pay_within': '{t} left to check out',
    'orders.pay_online_within': '{t} left to pay online',
    'orders.checkout': 'Check out',
    'orders.cancel': 'Cancel order',
    'orders.cancel.confirm': 'Cancel this order?',
    'orders.cancel.yes': 'Yes, cancel',
    'orders.cancel.no': 'Keep it',
    'orders.cancel.failed': 'The order could not be cancelled ({status}).',
    'orders.hint.offline': 'Pay the farmer on delivery or by transfer; they mark it paid.',
    'orders.hint.paid': 'The farmer is packing your order.',
    'orders.tracking': '{carrier} · tracking no.',
    'orders.ship_to': 'To {name}, {address}',
    'orders.reason': 'Reason: {reason}',
    'orders.updated': 'Order {id}: {status}',
    'status.reserved': 'To check out',
    'status.reserved.offline': 'Awaiting payment',
    'status.reserved.gateway': 'Awaiting payment',
    'status.paid': 'Paid',
    'status.shipped': 'Shipped',
    'status.delivered': 'Delivered',
    'status.cancelled': 'Cancelled',
    'status.expired': 'Expired',
    'status.refunded': 'Refunded',
    'status.unknown': 'Unknown',

    'index.title': 'Live now',
    'index.tls.title': 'Go live from a phone on this Wi-Fi',
    'index.tls.why': 'A phone opens its camera only on a secure (https) page. This server made its own certificate, so the phone warns about it the first time.',
    'index.tls.step1': 'Quickest: open the broadcaster page on the phone and accept the warning (Advanced → Proceed).',
    'index.tls.step2': 'For good: download the certificate on the phone and install it as trusted (Android: Settings → Security → Install a certificate → CA certificate; iPhone: install the profile, then Settings → General → About → Certificate Trust Settings).',
    'index.tls.fingerprint': 'Its fingerprint (SHA-256), to compare on the phone:',
    'index.tls.download': 'Download the certificate',
    'index.empty': 'No streams yet.',
    'index.loading': 'Loading streams…',
    'index.error': 'Could not load the streams.',
    'index.watch': 'Watch',
    'index.host': 'Host console',
    'index.broadcast': 'Go live',
    'index.create': 'Start a new stream',
    'index.create.help': 'Needs the server\'s admin token. You will get a host token and a stream key.',
    'index.admin_token': 'Admin token',
    'index.stream_title': 'Stream title',
    'index.farmer': 'Farmer',
    'index.create.submit': 'Create stream',
    'index.create.done': 'Stream created. Keep these secret: the host token runs the shop, the stream key publishes video.',
    'index.create.failed': 'Could not create the stream ({status}).',
    'index.viewers': '{n} watching',

    'host.title': 'Host console',
    'host.login.title': 'Host sign-in',
    'host.login.help': 'Enter the host token you got when the stream was created. It stays in this browser tab only.',
    'host.token': 'Host token',
    'host.login.submit': 'Open console',
    'host.login.bad': 'That token was not accepted for this stream.',
    'host.signout': 'Sign out',
    'host.catalog': 'Catalog',
    'host.catalog.empty': 'No products yet. Add the first one below.',
    'host.show': 'Show card',
    'host.hide': 'Hide card',
    'host.on_screen': 'On screen',
    'host.slot': 'Position',
    'host.slot.bottom': 'Bottom',
    'host.slot.top': 'Top',
    'host.slot.left': 'Left',
    'host.slot.right': 'Right',
    'host.price': 'Price (¥)',
    'host.stock': 'Stock',
    'host.save': 'Save',
    'host.saved': 'Saved',
    'host.sale.start': 'Flash sale',
    'host.sale.stop': 'Stop sale',
    'host.sale.price': 'Sale price (¥)',
    'host.sale.quantity': 'Units',
    'host.sale.limit': 'Per buyer',
    'host.sale.duration': 'Seconds',
    'host.sale.go': 'Start',
    'host.sale.running': 'Sale {price} · {t} left',
    'host.add': 'Add a product',
    'host.add.id': 'Product id',
    'host.add.title': 'Title',
    'host.add.image': 'Image URL',
    'host.add.submit': 'Add to catalog',
    'host.add.failed': 'Could not save the catalog ({status}).',
    'host.orders': 'Orders',
    'host.buyer': 'Buyer',
    'host.orders.empty': 'Orders appear here as viewers buy.',

    'host.orders.todo': 'To handle',
    'host.orders.all': 'All',
    'host.orders.export': 'CSV for the courier',
    'host.orders.export.failed': 'The orders could not be exported ({status}).',
    'host.orders.empty.todo': 'Nothing to handle right now.',
    'host.orders.no_contact': 'No address yet: the buyer has not checked out.',
    'host.orders.pay_by': 'Held until {time}',
    'host.orders.payment.offline': 'Cash on delivery / transfer',
    'host.orders.payment.gateway': 'Paid online',
    'host.orders.paid': 'Mark paid',
    'host.orders.ship': 'Ship',
    'host.orders.deliver': 'Mark delivered',
    'host.orders.cancel': 'Cancel',
    'host.orders.refund': 'Refund',
    'host.orders.carrier': 'Carrier',
    'host.orders.tracking': 'Tracking number',
    'host.orders.reason': 'Reason (the buyer sees it)',
    'host.orders.confirm_ship': 'Ship and tell the buyer',
    'host.orders.confirm_cancel': 'Cancel the order',
    'host.orders.confirm_refund': 'Refund the order',
    'host.orders.close': 'Back',
    'host.orders.flag.refund_due': 'Money arrived after this order closed: pay it back to the buyer.',
    'host.orders.conflict': 'Order {id} is already {status}.',
    'host.orders.failed': 'Order {id} could not be updated ({status}).',
    'host.chat': 'Chat',
    'host.chat.delete': 'Delete',
    'host.chat.mute': 'Mute',
    'host.chat.unsupported': 'The server does not support this yet.',
    'host.chat.muted': '{from} is muted for {minutes} min.',
    'host.health': 'Stream health',
    'host.health.bitrate': 'Bitrate',
    'host.health.fps': 'Frame rate',
    'host.health.loss': 'Loss',
    'host.health.state': 'Ingest',
    'host.health.unknown': '—',
    'host.viewers': 'Viewers',
    'host.gmv': 'Sales',
    'host.share': 'Viewer link',
    'host.share.help': 'Share this link or let viewers scan the code. It contains no secret.',
    'host.copy': 'Copy',
    'host.copied': 'Copied',
    'host.broadcast': 'Open broadcaster page',
    'host.error': 'Server said: {message}',

    'bc.title': 'Go live',
    'bc.camera': 'Camera',
    'bc.switch': 'Switch camera',
    'bc.mic.on': 'Mic on',
    'bc.mic.off': 'Mic off',
    'bc.camera.denied': 'Camera or microphone not available: {message}',
    'bc.camera.start': 'Turn on camera',
    'bc.whip.go': 'Go live',
    'bc.whip.stop': 'End live',
    'bc.whip.connecting': 'Connecting…',
    'bc.whip.live': 'You are live',
    'bc.whip.failed': 'Could not go live: {message}',
    'bc.whip.unavailable': 'Going live from the browser is not available on this server yet. Use an encoder app with the details below.',
    'bc.encoder': 'Encoder app (Larix, OBS, …)',
    'bc.encoder.help': 'Scan the code with your encoder app, or copy the server and stream key.',
    'bc.rtmp': 'RTMP server',
    'bc.srt': 'SRT URL',
    'bc.key': 'Stream key',
    'bc.key.show': 'Show',
    'bc.key.hide': 'Hide',
    'bc.key.ask': 'Enter the stream key (or the host token) to see the publishing details.',
    'bc.key.submit': 'Continue',
    'bc.key.placeholder': 'Stream key or host token',
    'bc.uplink.checking': 'Checking your uplink…',
    'bc.uplink.hd': 'Uplink good for 720p',
    'bc.uplink.sd': 'Uplink: use 480p',
    'bc.uplink.weak': 'Uplink too weak for video',
    'bc.uplink.failed': 'Uplink check failed',
    'bc.uplink.detail': '{bitrate} up · {rtt} ms round trip · {loss} lost',
    'bc.uplink.again': 'Check again',
    'bc.uplink.noconnect': 'no connection to the server (a firewall may block UDP)',
    'bc.live.stats': '{codec} {bitrate} · {loss} lost · {size}',
    'bc.live.lowered': 'Weak uplink: sending a smaller picture',
    'bc.live.raised': 'Uplink recovered: sending the full picture again',
    'bc.whip.reconnecting': 'Connection lost. Reconnecting in {seconds} s…',
    'bc.whip.retrying': 'Reconnecting…',
  },
  'zh-CN': {
    'app.name': '丰收直播',
    'app.tagline': '产地直发，现场直播。',
    'lang.switch': 'EN',
    'lang.switch.label': '切换语言',

    'conn.connecting': '正在连接…',
    'conn.reconnecting': '{s} 秒后重新连接…',
    'conn.reconnecting.now': '正在重新连接…',
    'conn.offline': '网络已断开，恢复后会自动重连。',
    'conn.live': '已连接',
    'conn.stream_missing': '直播间不存在。',

    'stream.live': '直播中',
    'stream.offline': '未开播',
    'stream.replay': '回放',
    'replay.chapters': '本场回放商品',
    'replay.missing': '该回放不存在或已被删除。',
    'replay.watch': '观看 {when} 的直播回放',
    'stream.waiting': '主播暂时不在直播，回来后视频会自动继续。',
    'stream.loading': '视频加载中…',
    'viewers': '{n} 人在看',

    'player.unmute': '点击开启声音',
    'player.tap_to_play': '点击播放',

    'card.stock': '剩 {n} 件',
    'card.sold_out': '已售罄',
    'card.bought': '已抢 {n} 件',
    'card.flash': '限时秒杀',
    'card.ends_in': '{t} 后结束',
    'card.ended': '秒杀已结束',
    'card.buy': '立即购买',
    'card.buying': '下单中…',
    'card.qty.dec': '减少一件',
    'card.qty.inc': '增加一件',
    'card.qty': '数量',
    'card.close': '关闭',

    'order.confirmed': '下单成功',
    'order.confirmed.detail': '订单 {id} · {qty} × {title} · {total}',
    'order.rejected': '未能下单',
    'order.reason.sold_out': '已售罄，商品已被抢完。',
    'order.reason.limit_reached': '已达到每人限购数量。',
    'order.reason.sale_ended': '秒杀已经结束。',
    'order.reason.invalid': '订单无效（商品或数量有误）。',
    'order.reason.rate_limited': '操作太频繁，请稍后再试。',
    'order.reason.unavailable': '订单暂时无法保存，未产生扣款，请重试。',
    'order.reason.unknown': '下单失败（{reason}）。',
    'order.pending': '正在提交订单…',
    'order.timeout': '暂未收到结果，将用同一订单继续重试。',

    'purchase.line': '{buyer} 买了 {qty} 件',
    'chat.placeholder': '说点什么…',
    'chat.send': '发送',
    'chat.muted': '你已被主播暂时禁言。',
    'chat.title': '聊天',
    'chat.empty': '还没有消息。',
    'chat.muted': '已禁言',
    'products.title': '本场商品',
    'products.empty': '暂无商品。',
    'products.on_screen': '正在讲解',

    'shop.products': '商品',
    'shop.my_orders': '我的订单',
    'product.sheet': '商品详情',
    'product.open': '查看 {title}',

    'checkout.title': '填写收货信息',
    'checkout.reserved': '已为你保留库存，剩余 {t}，请尽快提交',
    'checkout.expired': '已超过保留时间，商品已重新开售。',
    'checkout.name': '收货人',
    'checkout.phone': '手机号',
    'checkout.address': '收货地址',
    'checkout.address.placeholder': '省、市、区、街道、门牌号',
    'checkout.payment': '付款方式',
    'checkout.remember': '收货信息保存在本机，下次自动填写。',
    'checkout.submit': '提交订单 · {total}',
    'checkout.sending': '正在提交…',
    'checkout.done': '订单已提交',
    'checkout.done.offline': '农户会通过 {phone} 联系你，确认付款和发货。',
    'checkout.done.gateway': '正在等待支付结果。',
    'checkout.pay_now': '去支付',
    'checkout.error.name': '请填写收货人姓名。',
    'checkout.error.phone': '请填写以 1 开头的 11 位手机号。',
    'checkout.error.address': '请填写完整地址（省、市、街道、门牌号）。',
    'checkout.error.conflict': '该订单无法再提交：当前状态为「{status}」。',
    'checkout.error.failed': '订单提交失败（{status}），请重试。',
    'checkout.error.network': '网络不通，请重试。',
    'payment.offline': '货到付款 / 转账给农户',
    'payment.gateway': '在线支付',

    'orders.loading': '正在加载订单…',
    'orders.empty': '还没有订单。',
    'orders.error': '订单加载失败（{status}）。',
    'orders.retry': '重试',
    'orders.pay_within': '剩余 {t}，请尽快提交',
    'orders.pay_online_within': '剩余 {t}，请尽快完成在线支付',
    'orders.checkout': '去提交',
    'orders.cancel': '取消订单',
    'orders.cancel.confirm': '确定取消这个订单？',
    'orders.cancel.yes': '确定取消',
    'orders.cancel.no': '不取消',
    'orders.cancel.failed': '订单取消失败（{status}）。',
    'orders.hint.offline': '货到付款或转账给农户，农户确认收款后显示已付款。',
    'orders.hint.paid': '农户正在为你打包。',
    'orders.tracking': '{carrier} · 运单号',
    'orders.ship_to': '寄往 {name}，{address}',
    'orders.reason': '原因：{reason}',
    'orders.updated': '订单 {id}：{status}',
    'status.reserved': '待提交',
    'status.reserved.offline': '待付款',
    'status.reserved.gateway': '待支付',
    'status.paid': '已付款',
    'status.shipped': '已发货',
    'status.delivered': '已签收',
    'status.cancelled': '已取消',
    'status.expired': '已过期',
    'status.refunded': '已退款',
    'status.unknown': '未知',

    'index.title': '正在直播',
    'index.tls.title': '用同一 Wi-Fi 下的手机开播',
    'index.tls.why': '手机只在安全（https）页面上打开摄像头。本服务器的证书是自己生成的，手机第一次打开时会提示不安全。',
    'index.tls.step1': '最快：在手机上打开开播页面，接受提示（高级 → 继续访问）。',
    'index.tls.step2': '一劳永逸：在手机上下载证书并安装为受信任（安卓：设置 → 安全 → 安装证书 → CA 证书；苹果：安装描述文件后，设置 → 通用 → 关于本机 → 证书信任设置）。',
    'index.tls.fingerprint': '证书指纹（SHA-256），可在手机上核对：',
    'index.tls.download': '下载证书',
    'index.empty': '暂无直播。',
    'index.loading': '正在加载直播…',
    'index.error': '直播列表加载失败。',
    'index.watch': '观看',
    'index.host': '主播后台',
    'index.broadcast': '开播',
    'index.create': '创建新直播',
    'index.create.help': '需要服务器的管理员令牌。创建后会得到主播令牌和推流密钥。',
    'index.admin_token': '管理员令牌',
    'index.stream_title': '直播标题',
    'index.farmer': '农户',
    'index.create.submit': '创建直播',
    'index.create.done': '直播已创建。请妥善保管：主播令牌用于管理店铺，推流密钥用于推送视频。',
    'index.create.failed': '创建失败（{status}）。',
    'index.viewers': '{n} 人在看',

    'host.title': '主播后台',
    'host.login.title': '主播登录',
    'host.login.help': '请输入创建直播时得到的主播令牌。它只保存在当前浏览器标签页中。',
    'host.token': '主播令牌',
    'host.login.submit': '进入后台',
    'host.login.bad': '该令牌无法管理此直播间。',
    'host.signout': '退出',
    'host.catalog': '商品',
    'host.catalog.empty': '还没有商品，请在下方添加。',
    'host.show': '展示卡片',
    'host.hide': '收起卡片',
    'host.on_screen': '展示中',
    'host.slot': '位置',
    'host.slot.bottom': '底部',
    'host.slot.top': '顶部',
    'host.slot.left': '左侧',
    'host.slot.right': '右侧',
    'host.price': '价格（元）',
    'host.stock': '库存',
    'host.save': '保存',
    'host.saved': '已保存',
    'host.sale.start': '限时秒杀',
    'host.sale.stop': '结束秒杀',
    'host.sale.price': '秒杀价（元）',
    'host.sale.quantity': '数量',
    'host.sale.limit': '每人限购',
    'host.sale.duration': '时长（秒）',
    'host.sale.go': '开始',
    'host.sale.running': '秒杀 {price} · 剩 {t}',
    'host.add': '添加商品',
    'host.add.id': '商品编号',
    'host.add.title': '标题',
    'host.add.image': '图片地址',
    'host.add.submit': '加入商品库',
    'host.add.failed': '商品保存失败（{status}）。',
    'host.orders': '订单',
    'host.buyer': '买家',
    'host.orders.empty': '观众下单后会显示在这里。',

    'host.orders.todo': '待处理',
    'host.orders.all': '全部',
    'host.orders.export': '导出 CSV（给快递）',
    'host.orders.export.failed': '订单导出失败（{status}）。',
    'host.orders.empty.todo': '暂时没有要处理的订单。',
    'host.orders.no_contact': '买家还没有填写收货信息。',
    'host.orders.pay_by': '保留到 {time}',
    'host.orders.payment.offline': '货到付款 / 转账',
    'host.orders.payment.gateway': '在线支付',
    'host.orders.paid': '确认收款',
    'host.orders.ship': '发货',
    'host.orders.deliver': '确认签收',
    'host.orders.cancel': '取消订单',
    'host.orders.refund': '退款',
    'host.orders.carrier': '快递公司',
    'host.orders.tracking': '运单号',
    'host.orders.reason': '原因（买家可见）',
    'host.orders.confirm_ship': '确认发货并通知买家',
    'host.orders.confirm_cancel': '确认取消',
    'host.orders.confirm_refund': '确认退款',
    'host.orders.close': '返回',
    'host.orders.flag.refund_due': '订单关闭后才收到付款：请把钱退还给买家。',
    'host.orders.conflict': '订单 {id} 已经是「{status}」。',
    'host.orders.failed': '订单 {id} 更新失败（{status}）。',
    'host.chat': '聊天',
    'host.chat.delete': '删除',
    'host.chat.mute': '禁言',
    'host.chat.unsupported': '服务器暂不支持此操作。',
    'host.chat.muted': '已禁言 {from} {minutes} 分钟。',
    'host.health': '推流状态',
    'host.health.bitrate': '码率',
    'host.health.fps': '帧率',
    'host.health.loss': '丢包',
    'host.health.state': '推流',
    'host.health.unknown': '—',
    'host.viewers': '观众',
    'host.gmv': '成交额',
    'host.share': '观看链接',
    'host.share.help': '分享此链接或让观众扫码，链接中不含任何密钥。',
    'host.copy': '复制',
    'host.copied': '已复制',
    'host.broadcast': '打开开播页面',
    'host.error': '服务器提示：{message}',

    'bc.title': '开播',
    'bc.camera': '摄像头',
    'bc.switch': '切换摄像头',
    'bc.mic.on': '麦克风开',
    'bc.mic.off': '麦克风关',
    'bc.camera.denied': '无法使用摄像头或麦克风：{message}',
    'bc.camera.start': '打开摄像头',
    'bc.whip.go': '开始直播',
    'bc.whip.stop': '结束直播',
    'bc.whip.connecting': '正在连接…',
    'bc.whip.live': '正在直播',
    'bc.whip.failed': '开播失败：{message}',
    'bc.whip.unavailable': '此服务器暂不支持网页直接开播，请使用推流软件和下方信息。',
    'bc.encoder': '推流软件（Larix、OBS 等）',
    'bc.encoder.help': '用推流软件扫描二维码，或复制服务器地址和推流密钥。',
    'bc.rtmp': 'RTMP 服务器',
    'bc.srt': 'SRT 地址',
    'bc.key': '推流密钥',
    'bc.key.show': '显示',
    'bc.key.hide': '隐藏',
    'bc.key.ask': '请输入推流密钥（或主播令牌）以查看推流信息。',
    'bc.key.submit': '继续',
    'bc.key.placeholder': '推流密钥或主播令牌',
    'bc.uplink.checking': '正在检测上行网络…',
    'bc.uplink.hd': '网络良好，可播 720p',
    'bc.uplink.sd': '网络一般，建议 480p',
    'bc.uplink.weak': '网络太弱，无法流畅直播',
    'bc.uplink.failed': '网络检测失败',
    'bc.uplink.detail': '上行 {bitrate} · 往返 {rtt} 毫秒 · 丢包 {loss}',
    'bc.uplink.again': '重新检测',
    'bc.uplink.noconnect': '无法连接服务器（可能是防火墙拦截了 UDP）',
    'bc.live.stats': '{codec} {bitrate} · 丢包 {loss} · {size}',
    'bc.live.lowered': '网络较弱，已降低画面清晰度',
    'bc.live.raised': '网络已恢复，恢复高清画面',
    'bc.whip.reconnecting': '连接中断，{seconds} 秒后重连…',
    'bc.whip.retrying': '正在重连…',
  },
};

const STORAGE_KEY = 'harvest.lang';
const listeners = new Set();

export function detectLanguage(saved, navigatorLanguages) {
  if (saved && STRINGS[saved]) return saved;
  for (const l of navigatorLanguages || []) {
    const lower = String(l).toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

function savedLanguage() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

let current = typeof navigator === 'undefined'
  ? 'en'
  : detectLanguage(savedLanguage(), navigator.languages?.length ? navigator.languages : [navigator.language]);

export function lang() {
  return current;
}

export function t(key, params = {}) {
  const s = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

// A page's own strings ({en: {...}, 'zh-CN': {...}}), kept beside the page's module so that
// every page does not grow this file. Both languages must carry the same keys.
export function addStrings(more) {
  for (const [language, table] of Object.entries(more)) Object.assign(STRINGS[language], table);
}

export function hasKey(key) {
  return key in STRINGS.en;
}

export function keys(language) {
  return Object.keys(STRINGS[language]);
}

// Fills [data-i18n] (text), [data-i18n-placeholder], [data-i18n-label] (aria-label + title).
export function applyI18n(root = document) {
  document.documentElement.lang = current;
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-placeholder]'))
    node.setAttribute('placeholder', t(node.dataset.i18nPlaceholder));
  for (const node of root.querySelectorAll('[data-i18n-label]')) {
    node.setAttribute('aria-label', t(node.dataset.i18nLabel));
    node.setAttribute('title', t(node.dataset.i18nLabel));
  }
}

export function setLanguage(language) {
  if (!STRINGS[language]) return;
  current = language;
  try {
    localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  applyI18n();
  for (const fn of listeners) fn(current);
}

export function onLanguageChange(fn) {
  listeners.add(fn);
}

// Wires every [data-lang-switch] button to toggle between the two languages.
export function initLanguageSwitch(root = document) {
  for (const button of root.querySelectorAll('[data-lang-switch]')) {
    button.addEventListener('click', () => setLanguage(current === 'en' ? 'zh-CN' : 'en'));
  }
  applyI18n();
}

// "02:31" (or "1:02:31") from milliseconds, never negative.
export function formatCountdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(h ? 2 : 2, '0');
  const ss = String(s).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function formatNumber(n) {
  return new Intl.NumberFormat(current).format(n);
}
