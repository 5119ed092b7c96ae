; Mode 12h (640x480, 16 colours, four planes) programmed register by
; register.  Each byte of each line is drawn with write mode 2 in two
; halves selected by the bit mask: pixels 0-3 of byte column b on line y
; get colour (b + y) & 15, pixels 4-7 colour (3b + y) & 15.  A read
; before each store loads the latches, which keep the half the bit mask
; protects.  The attribute palette maps colour c to DAC entry 16 + c.
%include "vga_lib.inc"

start:
    mov esi, mode12_regs
    call set_regs
    call dac_load
    OUTB 0x3ce, 5              ; write mode 2
    OUTB 0x3cf, 0x02
    mov edi, 0xa0000
    xor ebx, ebx               ; y
.row:
    xor ecx, ecx               ; byte column b
.col:
    OUTB 0x3ce, 8
    OUTB 0x3cf, 0xf0
    mov al, [edi]              ; load the latches
    lea eax, [ecx + ebx]
    and al, 15
    mov [edi], al
    OUTB 0x3cf, 0x0f
    mov al, [edi]
    lea eax, [ecx * 2 + ecx]
    add eax, ebx
    and al, 15
    mov [edi], al
    inc edi
    inc ecx
    cmp ecx, 80
    jb .col
    inc ebx
    cmp ebx, 480
    jb .row
    ; Read mode 1: colour compare against the colour of the first four
    ; pixels of line 0, byte 1 (colour 1): bits 7-4 match, 3-0 (colour 3)
    ; do not.
    OUTB 0x3ce, 5
    OUTB 0x3cf, 0x08
    OUTB 0x3ce, 2
    OUTB 0x3cf, 0x01
    OUTB 0x3ce, 7
    OUTB 0x3cf, 0x0f
    cmp byte [0xa0001], 0xf0
    jne fail
    call screen_on
    DONE
fail:
    mov al, 1
    out 0xf4, al
    hlt

; Mode 12h register values (IBM VGA Technical Reference, BIOS mode 12h),
; with the attribute palette sending colour c to DAC entry 16 + c
; (AR10 bit 7 with AR14 = 1: bits 5-4 of the index from AR14).
mode12_regs:
    db 0xe3
    db 0x03, 0x01, 0x0f, 0x00, 0x06
    db 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00
    db 0x00, 0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3, 0xff
    db 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff
    db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07
    db 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f
    db 0x81, 0x00, 0x0f, 0x00, 0x01

load_end:
bss_end:
