; Mode 13h (320x200, 256 colours, chain 4) programmed register by
; register, the DAC loaded with dac_rule, and every pixel (x, y) set to
; (x ^ y) + (y >> 3) through the window at 0xA0000 with byte stores.
%include "vga_lib.inc"

start:
    mov esi, mode13_regs
    call set_regs
    call dac_load
    mov edi, 0xa0000
    xor ebx, ebx               ; y
.row:
    xor ecx, ecx               ; x
.col:
    mov eax, ecx
    xor eax, ebx
    mov edx, ebx
    shr edx, 3
    add eax, edx
    mov [edi], al
    inc edi
    inc ecx
    cmp ecx, 320
    jb .col
    inc ebx
    cmp ebx, 200
    jb .row
    ; A read in chain 4 returns the byte the same address was given.
    cmp byte [0xa0000 + 5 * 320 + 9], (9 ^ 5) & 0xff
    jne fail
    call screen_on
    DONE
fail:
    mov al, 1
    out 0xf4, al
    hlt

; The standard mode 13h register values (IBM VGA Technical Reference,
; BIOS mode 13h): misc, sequencer, CRTC, graphics, attribute.
mode13_regs:
    db 0x63
    db 0x03, 0x01, 0x0f, 0x00, 0x0e
    db 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00
    db 0x00, 0x00, 0x00, 0x00, 0x9c, 0x0e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff
    db 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff
    db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07
    db 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f
    db 0x41, 0x00, 0x0f, 0x00, 0x00

load_end:
bss_end:
