// hello: the smallest handler function (Node, warm worker).
export default async function hello(input, ctx) {
  const name = typeof input?.name === 'string' && input.name ? input.name : 'world'
  ctx.log.info('greeting', { name })
  return { message: `Hello, ${name}!`, request_id: ctx.request_id }
}
