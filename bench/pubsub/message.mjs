// The message every benchmark server sends: 64 bytes of text, a chat line.
export const MESSAGE = '{"room":"lobby","from":"alice","text":"hello everyone, 12345"}  ';
if (MESSAGE.length !== 64) throw new Error(`MESSAGE must be 64 bytes, is ${MESSAGE.length}`);
